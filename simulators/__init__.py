"""Device simulators for the demo estate: elevators, water and power devices speaking real MQTT."""
