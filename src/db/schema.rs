// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "tsvector", schema = "pg_catalog"))]
    pub struct Tsvector;
}

diesel::table! {
    api_keys (id) {
        id -> Uuid,
        name -> Text,
        prefix -> Text,
        secret_hash -> Bytea,
        scopes -> Text,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    article_slug_history (slug) {
        slug -> Text,
        article_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    article_tags (article_id, tag_id) {
        article_id -> Uuid,
        tag_id -> Uuid,
        position -> Int2,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Tsvector;

    articles (id) {
        id -> Uuid,
        slug -> Text,
        title -> Text,
        subtitle -> Nullable<Text>,
        excerpt -> Text,
        excerpt_is_custom -> Bool,
        body_markdown -> Text,
        body_html -> Text,
        body_text -> Text,
        outline -> Jsonb,
        word_count -> Int4,
        reading_time_minutes -> Int4,
        author_name -> Text,
        author_slug -> Text,
        author_credentials -> Nullable<Text>,
        author_bio -> Nullable<Text>,
        reviewed_by -> Nullable<Text>,
        last_reviewed_at -> Nullable<Timestamptz>,
        cover_image -> Nullable<Jsonb>,
        meta_title -> Nullable<Text>,
        meta_description -> Nullable<Text>,
        canonical_url -> Nullable<Text>,
        og_image -> Nullable<Text>,
        status -> Text,
        published_at -> Nullable<Timestamptz>,
        featured -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
        search -> Nullable<Tsvector>,
    }
}

diesel::table! {
    instance_secrets (name) {
        name -> Text,
        value -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    tags (id) {
        id -> Uuid,
        slug -> Text,
        name -> Text,
        description -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(article_slug_history -> articles (article_id));
diesel::joinable!(article_tags -> articles (article_id));
diesel::joinable!(article_tags -> tags (tag_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_keys,
    article_slug_history,
    article_tags,
    articles,
    instance_secrets,
    tags,
);
