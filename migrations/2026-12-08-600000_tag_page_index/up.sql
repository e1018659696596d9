-- A tag page lists a tag's public articles newest first. With no index in that order the
-- planner either walks the newest articles probing each for the tag (slow for a rare tag) or
-- fetches all of the tag's articles and sorts them (slow for a big tag): at a million articles
-- the first page of a tag on 1% of them read 19,000 buffers (docs/PERFORMANCE.md). With each
-- article's status and published_at copied beside its tags, one index walks a tag's public
-- articles in page order, and a page costs the same whatever the tag's size. Triggers keep the
-- copies equal to the article's for every writer (Beacon, psql, restores).
ALTER TABLE article_tags ADD COLUMN status text, ADD COLUMN published_at timestamptz;
UPDATE article_tags t SET status = a.status, published_at = a.published_at
    FROM articles a WHERE a.id = t.article_id;
ALTER TABLE article_tags ALTER COLUMN status SET NOT NULL;

-- Whatever a writer sends for the copies, they are the article's.
CREATE FUNCTION beacon_article_tags_copy_article() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT a.status, a.published_at INTO NEW.status, NEW.published_at
        FROM articles a WHERE a.id = NEW.article_id;
    RETURN NEW;
END;
$$;
CREATE TRIGGER article_tags_copy_article BEFORE INSERT OR UPDATE ON article_tags
    FOR EACH ROW EXECUTE FUNCTION beacon_article_tags_copy_article();

CREATE FUNCTION beacon_articles_copy_to_tags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE article_tags SET status = NEW.status, published_at = NEW.published_at
        WHERE article_id = NEW.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER articles_copy_to_tags AFTER UPDATE OF status, published_at ON articles
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.published_at IS DISTINCT FROM NEW.published_at)
    EXECUTE FUNCTION beacon_articles_copy_to_tags();

-- The predicate is the public one of `articles_public_idx`, written the same way in the query.
CREATE INDEX article_tags_public_idx ON article_tags (tag_id, published_at DESC, article_id DESC)
    WHERE status IN ('published', 'scheduled');
