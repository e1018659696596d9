DROP TABLE instance_secrets;
DROP TABLE article_slug_history;
DROP TABLE article_tags;
DROP TABLE articles;
DROP TABLE tags;
