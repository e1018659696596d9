-- One batch of scripts/bench-big.sh: articles :first .. :first + :last (below :size), copied
-- from the templates Beacon wrote, with their tags and some old slugs. psql variables: first,
-- last, size, templates.
SET session_replication_role = replica;  -- no triggers (foreign keys, notifications, copies): see bench-big.sh
SET synchronous_commit = off;

WITH src AS MATERIALIZED (
  SELECT d.*,
         (lpad(to_hex((extract(epoch FROM d.created_at) * 1000)::bigint), 12, '0') || '7'
           || substr(md5(d.n::text), 1, 3) || '8' || substr(md5(d.n::text), 4, 15))::uuid AS id,
         rtrim(left(trim(BOTH '-' FROM lower(regexp_replace(d.title, '[^A-Za-z0-9]+', '-', 'g'))), 100), '-')
           || '-' || d.n AS slug
  FROM (
    SELECT c.*,
           CASE WHEN c.status = 'draft' THEN now() - c.rt * interval '8 years'
                WHEN c.published_at > now() THEN now() - c.rc * interval '30 days'
                ELSE c.published_at - c.rc * interval '14 days' END AS created_at
    FROM (
      SELECT b.*,
             CASE WHEN b.status = 'draft' THEN NULL
                  WHEN b.rs >= 0.91 AND b.rs < 0.93 THEN now() + b.rt * interval '60 days'
                  ELSE now() - b.rt * interval '8 years' END AS published_at,
             -- "microdosing" is in no template: these 50 titles (at every size) are its only matches.
             CASE WHEN b.n % (:size / 50) = 0 THEN format('Microdosing and %s: what patients ask', b.topic_name)
                  ELSE format((ARRAY[
                    '%s and ketamine: what the research says', 'Ketamine for %s: questions patients ask',
                    'Living with %s: one patient''s story', 'How ketamine infusions help with %s',
                    'Is ketamine right for your %s?', 'What to expect from ketamine treatment for %s',
                    '%s: myths and facts about ketamine', 'Ketamine, therapy and %s',
                    'Paying for ketamine treatment of %s', 'A nurse''s guide to %s and infusions'])[1 + (b.n / :templates) % 10],
                    b.topic_name) END AS title
      FROM (
        SELECT a.*,
               CASE WHEN a.rs < 0.88 THEN 'published' WHEN a.rs < 0.93 THEN 'scheduled'
                    WHEN a.rs < 0.98 THEN 'draft' ELSE 'archived' END AS status
        FROM (
          SELECT n, n % :templates AS k, t.topic_key, bt.name AS topic_name,
                 random() AS rs, random() AS rt, random() AS rc, random() AS ru,
                 random() AS t1, random() AS t2, random() AS t3
          FROM generate_series(:first, least(:first + :last, :size - 1)) AS n
          JOIN bench_templates t ON t.k = n % :templates
          JOIN bench_tags bt ON bt.slug = t.topic_key
        ) a
      ) b
    ) c
  ) d
),
inserted AS (
  INSERT INTO articles (id, slug, title, subtitle, excerpt, excerpt_is_custom, body_markdown, body_html,
      body_text, outline, word_count, reading_time_minutes, author_name, author_slug, author_credentials,
      author_bio, reviewed_by, last_reviewed_at, cover_image, meta_title, meta_description, canonical_url,
      og_image, status, published_at, featured, created_at, updated_at, version, search)
  SELECT s.id, s.slug, s.title, t.subtitle, t.excerpt, t.excerpt_is_custom, t.body_markdown, t.body_html,
      t.body_text, t.outline, t.word_count, t.reading_time_minutes, t.author_name, t.author_slug,
      t.author_credentials, t.author_bio,
      CASE WHEN s.ru < 0.3 THEN 'Dr. Henrik Olsen, MD, PhD' END,
      CASE WHEN s.ru < 0.3 THEN least(now(), s.created_at + interval '30 days') END,
      CASE WHEN s.t3 < 0.6 THEN jsonb_build_object('url', 'https://cdn.example.org/covers/' || s.n || '.jpg',
        'alt', 'A calm treatment room with a reclining chair', 'width', 1200, 'height', 630) END,
      NULL, CASE WHEN s.rc < 0.5 THEN left(t.excerpt, 155) END, NULL, NULL,
      s.status, s.published_at, s.ru > 0.99, s.created_at,
      least(now(), s.created_at + s.ru * interval '400 days'), 1 + floor(s.ru * 3)::int,
      setweight(to_tsvector('english', s.title), 'A') || t.body_vector
  FROM src s JOIN bench_templates t USING (k)
),
tagged AS (
  -- With the article's status and published_at, as the trigger copies them on Beacon's writes.
  INSERT INTO article_tags (article_id, tag_id, position, status, published_at)
  SELECT s.id, tags.id, 0, s.status, s.published_at FROM src s JOIN tags ON tags.slug = s.topic_key
  UNION ALL
  SELECT s.id, tags.id, 1, s.status, s.published_at FROM src s JOIN tags ON tags.slug = 'ketamine-therapy' WHERE s.t1 < 0.5
  UNION ALL
  -- Skewed: the first of the thirty others is on about 13% of articles, the last few on about 1%.
  SELECT s.id, tags.id, CASE WHEN s.t1 < 0.5 THEN 2 ELSE 1 END, s.status, s.published_at
  FROM src s JOIN bench_tags bt ON bt.i = floor(30 * s.t3 * s.t3)::int JOIN tags ON tags.slug = bt.slug
  WHERE s.t2 < 0.7
),
moved AS (
  INSERT INTO article_slug_history (slug, article_id, created_at)
  SELECT s.slug || '-draft', s.id, s.created_at FROM src s WHERE s.rc > 0.97
)
SELECT count(*) FROM src;
