DROP TRIGGER interests_notify_content ON interests;
DROP TRIGGER tags_notify_content ON tags;
DROP TRIGGER article_slug_history_notify_content ON article_slug_history;
DROP TRIGGER article_tags_notify_content ON article_tags;
DROP TRIGGER articles_notify_content ON articles;
DROP FUNCTION beacon_notify_content();
