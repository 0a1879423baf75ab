"""Envelope encryption of the personal data events carry (crypto-shredding).

Each member has a random 256-bit data key; it is stored in `members.data_key` wrapped
(AES-256-GCM) by the service's master key, `PERSONAL_DATA_KEY`. Events carry the member's name,
email and companions sealed with that data key, never in clear; the notification service asks
this service to open them. Erasure sets `data_key` to NULL: every copy of those events, in the
outbox, on Kafka's topics and DLQs, in a replay or a backup, can no longer be read (except
with a backup of this database from before the erasure, which still holds the key).

Rotation of the master key: the vault wraps with the current key only and unwraps with it or
any former key listed in `PERSONAL_DATA_KEYS_PREVIOUS`, so a member key opens whichever of them
wrapped it. `python -m registration rotate-personal-data-key` re-wraps every member key with the
current one (`rewrap`) and records which key wrapped it (`member_data_key_wrapping`, by the
key's `key_id`); once no member key needs the former key, it can go. The member's data key
itself never changes, so nothing sealed with it, anywhere, needs to be touched.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tilmeld_shared.events import PersonalData, SealedPersonalData

NONCE_BYTES = 12


def key_id(master_key: bytes) -> str:
    """A master key's short public name, recorded beside each member key it wraps: a hash that
    tells the keys apart and reveals nothing usable about them."""
    return hashlib.sha256(b"tilmeld personal data master key\0" + master_key).hexdigest()[:16]


@dataclass(frozen=True)
class Rewrapped:
    """A member key as the current master key wraps it; `changed` is False where it already
    did (then `wrapped` is the stored value)."""

    wrapped: bytes
    key_id: str
    changed: bool


class PersonalDataVault:
    def __init__(self, master_key: bytes, previous: Iterable[bytes] = ()) -> None:
        keys = [master_key, *previous]
        if any(len(key) != 32 for key in keys):
            raise ValueError(
                "a master key must be 32 bytes (base64 in PERSONAL_DATA_KEY and in "
                "PERSONAL_DATA_KEYS_PREVIOUS)"
            )
        self._master = AESGCM(master_key)
        self.key_id = key_id(master_key)
        # Every key that may unwrap, the current one first (the one almost every member has).
        self._unwrapping = {key_id(key): AESGCM(key) for key in keys}

    @classmethod
    def from_setting(
        cls, encoded: str, *, development_fallback: str, previous: str = ""
    ) -> PersonalDataVault:
        """From the settings' base64: `PERSONAL_DATA_KEY` and the comma-separated
        `PERSONAL_DATA_KEYS_PREVIOUS`."""
        former = [base64.b64decode(key) for key in previous.split(",") if key.strip()]
        if encoded:
            return cls(base64.b64decode(encoded), former)
        # Development without a key still encrypts, with one derived from another secret;
        # production refuses to start without PERSONAL_DATA_KEY (settings).
        return cls(hashlib.sha256(f"dev-only:{development_fallback}".encode()).digest(), former)

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The ids of every master key that unwraps, the current one first."""
        return tuple(self._unwrapping)

    def _unwrap(
        self, member_id: uuid.UUID, wrapped: bytes, *, wrapped_by: str | None = None
    ) -> tuple[bytes, str]:
        """The member's data key and the id of the master key that opened it; InvalidTag
        when none of the configured keys does. `wrapped_by` names the key to try first."""
        nonce, sealed = wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:]
        order = sorted(self._unwrapping.items(), key=lambda item: item[0] != wrapped_by)
        for candidate_id, master in order:
            try:
                return master.decrypt(nonce, sealed, member_id.bytes), candidate_id
            except InvalidTag:
                continue
        raise InvalidTag

    def rewrap(
        self, member_id: uuid.UUID, wrapped: bytes, *, wrapped_by: str | None = None
    ) -> Rewrapped | None:
        """The member key wrapped by the current master key, the data key inside unchanged;
        None when no configured master key opens it."""
        try:
            data_key, opened_by = self._unwrap(member_id, wrapped, wrapped_by=wrapped_by)
        except (InvalidTag, ValueError):
            return None
        if opened_by == self.key_id:
            return Rewrapped(wrapped, self.key_id, changed=False)
        nonce = os.urandom(NONCE_BYTES)
        return Rewrapped(
            nonce + self._master.encrypt(nonce, data_key, member_id.bytes),
            self.key_id,
            changed=True,
        )

    def new_wrapped_key(self, member_id: uuid.UUID) -> bytes:
        """A fresh data key for a member, wrapped for storage (nonce + ciphertext)."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._master.encrypt(nonce, AESGCM.generate_key(256), member_id.bytes)

    def _data_key(self, member_id: uuid.UUID, wrapped: bytes) -> AESGCM:
        return AESGCM(self._unwrap(member_id, wrapped)[0])

    def seal(
        self, member_id: uuid.UUID, wrapped_key: bytes, personal: PersonalData
    ) -> SealedPersonalData:
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = self._data_key(member_id, wrapped_key).encrypt(
            nonce, personal.model_dump_json().encode(), member_id.bytes
        )
        return SealedPersonalData(
            member_id=member_id,
            nonce=base64.b64encode(nonce).decode(),
            ciphertext=base64.b64encode(ciphertext).decode(),
        )

    def open(self, sealed: SealedPersonalData, wrapped_key: bytes | None) -> PersonalData | None:
        """The data, or None once the member's key is destroyed (or the seal is not ours)."""
        if wrapped_key is None:
            return None
        try:
            plaintext = self._data_key(sealed.member_id, wrapped_key).decrypt(
                base64.b64decode(sealed.nonce),
                base64.b64decode(sealed.ciphertext),
                sealed.member_id.bytes,
            )
        except (InvalidTag, ValueError):
            return None
        return PersonalData.model_validate_json(plaintext)
