-- Threshold rule defaults per device kind (metric names as on the wire, see iot_gateway/contract.py).
-- A rule raises its code once the value has been past raise_at for hold_seconds, and clears it only once the
-- value is back past clear_at (the hysteresis band stops an alarm from flapping on a noisy reading).

-- One code may watch both sides of a metric (voltage too low, voltage too high): one rule per side.
ALTER TABLE threshold_rules DROP CONSTRAINT threshold_rules_site_id_device_kind_code_key;
ALTER TABLE threshold_rules ADD CONSTRAINT threshold_rules_one_per_side
    UNIQUE NULLS NOT DISTINCT (site_id, device_kind, code, direction);

INSERT INTO threshold_rules (site_id, device_kind, metric, code, direction, raise_at, clear_at, hold_seconds)
VALUES
    -- domestic supply pressure: below 150 kPa upper floors run dry; above 600 kPa fittings burst
    (NULL, 'pressure', 'pressureKpa',  'PRESSURE_LOW',     'below', 150, 170, 30),
    (NULL, 'pressure', 'pressureKpa',  'PRESSURE_HIGH',    'above', 600, 550, 30),
    -- roof and basement tanks: low means the pumps run dry soon, high means the float valve failed
    (NULL, 'tank',     'tankLevelPct', 'TANK_LEVEL_LOW',   'below', 20,  30,  60),
    (NULL, 'tank',     'tankLevelPct', 'TANK_LEVEL_HIGH',  'above', 95,  90,  60),
    -- 220 V ±10 % (GB/T 12325 allows +7 %/-10 % for single phase)
    (NULL, 'power',    'voltageV',     'VOLTAGE_ABNORMAL', 'below', 198, 205, 10),
    (NULL, 'power',    'voltageV',     'VOLTAGE_ABNORMAL', 'above', 242, 235, 10),
    (NULL, 'generator', 'voltageV',    'VOLTAGE_ABNORMAL', 'above', 242, 235, 10)
ON CONFLICT DO NOTHING;
