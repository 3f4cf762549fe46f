-- Periodic jobs read a few values out of jsonb that devices or older code wrote. A plain cast of a bad value
-- fails the job's whole query, for every site; this one answers NULL instead and the query falls back.
CREATE OR REPLACE FUNCTION try_timestamptz(value text) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN value::timestamptz;
EXCEPTION WHEN data_exception THEN
    -- class 22: invalid format, a field out of range, a value too long
    RETURN NULL;
END $$;
