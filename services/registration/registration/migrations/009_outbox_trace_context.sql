-- The W3C trace context (traceparent, tracestate) of the request that recorded the event, so
-- the relay can send it in the Kafka message's headers and the trace runs on into the
-- consumers. Null where nothing was traced (tracing off, history written down after the fact).
ALTER TABLE outbox
    ADD COLUMN traceparent text,
    ADD COLUMN tracestate text;
