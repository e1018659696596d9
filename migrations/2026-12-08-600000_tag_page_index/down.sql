DROP INDEX article_tags_public_idx;
DROP TRIGGER articles_copy_to_tags ON articles;
DROP FUNCTION beacon_articles_copy_to_tags();
DROP TRIGGER article_tags_copy_article ON article_tags;
DROP FUNCTION beacon_article_tags_copy_article();
ALTER TABLE article_tags DROP COLUMN status, DROP COLUMN published_at;
