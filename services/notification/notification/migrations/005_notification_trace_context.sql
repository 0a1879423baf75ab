-- The W3C trace context (traceparent, tracestate) of the event that queued the email, so the
-- dispatcher's send, which comes later, joins the registration's trace. Null where nothing was
-- traced.
ALTER TABLE notifications
    ADD COLUMN traceparent text,
    ADD COLUMN tracestate text;
