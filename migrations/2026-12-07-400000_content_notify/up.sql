-- Every write that can change a public read (articles, their tags and old slugs, tags,
-- interests) announces itself on `beacon_content`, delivered at commit and never on rollback,
-- so each process's response cache clears. A statement trigger sends one notification per
-- statement, and PostgreSQL folds identical ones within a transaction into one; it also
-- covers writes made outside Beacon (psql, restores).
CREATE FUNCTION beacon_notify_content() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('beacon_content', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER articles_notify_content AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON articles
    FOR EACH STATEMENT EXECUTE FUNCTION beacon_notify_content();
CREATE TRIGGER article_tags_notify_content AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON article_tags
    FOR EACH STATEMENT EXECUTE FUNCTION beacon_notify_content();
CREATE TRIGGER article_slug_history_notify_content AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON article_slug_history
    FOR EACH STATEMENT EXECUTE FUNCTION beacon_notify_content();
CREATE TRIGGER tags_notify_content AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tags
    FOR EACH STATEMENT EXECUTE FUNCTION beacon_notify_content();
CREATE TRIGGER interests_notify_content AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON interests
    FOR EACH STATEMENT EXECUTE FUNCTION beacon_notify_content();
