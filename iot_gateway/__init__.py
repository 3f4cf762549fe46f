"""The IoT gateway: MQTT messages from devices become telemetry, device state, alarms and work orders."""
