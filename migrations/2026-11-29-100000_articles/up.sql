-- Articles, their tags, slug history, and the instance secrets preview tokens are signed with.

CREATE TABLE tags (
    id uuid PRIMARY KEY,
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length(slug) <= 120),
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 60),
    description text CHECK (char_length(description) <= 500),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
SELECT diesel_manage_updated_at('tags');

CREATE TABLE articles (
    id uuid PRIMARY KEY,
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length(slug) <= 120),
    title text NOT NULL,
    subtitle text,
    excerpt text NOT NULL,
    -- False when the excerpt was derived from the body, so a body edit derives it again.
    excerpt_is_custom boolean NOT NULL,
    body_markdown text NOT NULL,
    -- Derived on write from body_markdown; never written by clients.
    body_html text NOT NULL,
    body_text text NOT NULL,
    outline jsonb NOT NULL,
    word_count integer NOT NULL CHECK (word_count >= 0),
    reading_time_minutes integer NOT NULL CHECK (reading_time_minutes >= 0),
    author_name text NOT NULL,
    author_slug text NOT NULL,
    author_credentials text,
    author_bio text,
    reviewed_by text,
    last_reviewed_at timestamptz,
    -- {"url", "alt", "width", "height"}, validated on write.
    cover_image jsonb CHECK (jsonb_typeof(cover_image) = 'object'),
    meta_title text,
    meta_description text,
    canonical_url text,
    og_image text,
    status text NOT NULL CHECK (status IN ('draft', 'scheduled', 'published', 'archived')),
    published_at timestamptz,
    featured boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('english', coalesce(subtitle, '') || ' ' || excerpt), 'B')
        || setweight(to_tsvector('english', body_text), 'C')
    ) STORED,
    CHECK (status NOT IN ('scheduled', 'published') OR published_at IS NOT NULL)
);
SELECT diesel_manage_updated_at('articles');

-- Public reads: an article is visible when published or scheduled with published_at <= now,
-- newest first with id as the tie-break (the keyset of cursor pagination).
CREATE INDEX articles_public_idx ON articles (published_at DESC, id DESC)
    WHERE status IN ('published', 'scheduled');
CREATE INDEX articles_author_idx ON articles (author_slug, published_at DESC, id DESC)
    WHERE status IN ('published', 'scheduled');
CREATE INDEX articles_search_idx ON articles USING gin (search);

CREATE TABLE article_tags (
    article_id uuid NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    tag_id uuid NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    -- The order the editor listed the tags in.
    position smallint NOT NULL,
    PRIMARY KEY (article_id, tag_id)
);
CREATE INDEX article_tags_tag_idx ON article_tags (tag_id, article_id);

-- Slugs an article had before: they answer 301 to its current slug.
CREATE TABLE article_slug_history (
    slug text PRIMARY KEY,
    article_id uuid NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX article_slug_history_article_idx ON article_slug_history (article_id);

-- Secrets every replica must share (e.g. the preview-token key when none is configured),
-- created once by whichever replica needs one first.
CREATE TABLE instance_secrets (
    name text PRIMARY KEY,
    value bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
