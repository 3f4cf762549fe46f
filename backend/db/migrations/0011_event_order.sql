-- A device's events can reach the gateway out of order (redelivery after a broker restart, several
-- replicas); the newest event per (device, code) by the device's own time decides the alarm's state.
CREATE INDEX device_events_newest ON device_events (device_id, code, ts DESC);
