"""Envelope encryption of the personal data events carry (crypto-shredding).

Each member has a random 256-bit data key; it is stored in `members.data_key` wrapped
(AES-256-GCM) by the service's master key, `PERSONAL_DATA_KEY`. Events carry the member's name,
email and companions sealed with that data key, never in clear; the notification service asks
this service to open them. Erasure sets `data_key` to NULL: every copy of those events, in the
outbox, on Kafka's topics and DLQs, in a replay or a backup, can no longer be read.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tilmeld_shared.events import PersonalData, SealedPersonalData

NONCE_BYTES = 12


class PersonalDataVault:
    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("the master key must be 32 bytes (base64 in PERSONAL_DATA_KEY)")
        self._master = AESGCM(master_key)

    @classmethod
    def from_setting(cls, encoded: str, *, development_fallback: str) -> PersonalDataVault:
        if encoded:
            return cls(base64.b64decode(encoded))
        # Development without a key still encrypts, with one derived from another secret;
        # production refuses to start without PERSONAL_DATA_KEY (settings).
        return cls(hashlib.sha256(f"dev-only:{development_fallback}".encode()).digest())

    def new_wrapped_key(self, member_id: uuid.UUID) -> bytes:
        """A fresh data key for a member, wrapped for storage (nonce + ciphertext)."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._master.encrypt(nonce, AESGCM.generate_key(256), member_id.bytes)

    def _data_key(self, member_id: uuid.UUID, wrapped: bytes) -> AESGCM:
        nonce, sealed = wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:]
        return AESGCM(self._master.decrypt(nonce, sealed, member_id.bytes))

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
