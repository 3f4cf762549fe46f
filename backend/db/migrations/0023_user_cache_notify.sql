-- API processes remember the signed-in user (with their sites, skills, duty and language) per session until
-- the token lapses, and forget them on caretaker_access. The sessions migration announces the changes that
-- end or narrow access; these announce the rest of what that remembered user carries:
-- - a user's name, skills, duty or language (payload: the user id);
-- - a site added or removed, which changes every admin's list of sites (payload '*': everyone).
CREATE TRIGGER users_profile_changed
    AFTER UPDATE OF display_name, skills, on_duty, locale ON users
    FOR EACH ROW
    WHEN (OLD.display_name IS DISTINCT FROM NEW.display_name
          OR OLD.skills IS DISTINCT FROM NEW.skills
          OR OLD.on_duty IS DISTINCT FROM NEW.on_duty
          OR OLD.locale IS DISTINCT FROM NEW.locale)
    EXECUTE FUNCTION notify_access_changed('id');

CREATE FUNCTION notify_everyones_access() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('caretaker_access', '*');
    RETURN NULL;
END
$$;

CREATE TRIGGER sites_added_or_removed
    AFTER INSERT OR DELETE ON sites
    FOR EACH STATEMENT EXECUTE FUNCTION notify_everyones_access();
