// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "tsvector", schema = "pg_catalog"))]
    pub struct Tsvector;
}

diesel::table! {
    access_audit (id) {
        id -> Uuid,
        at -> Timestamptz,
        key_id -> Nullable<Uuid>,
        key_name -> Text,
        action -> Text,
        lead_id -> Nullable<Uuid>,
        lead_ids -> Nullable<Array<Nullable<Uuid>>>,
        filter -> Nullable<Jsonb>,
        row_count -> Int4,
    }
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
        status -> Text,
        published_at -> Nullable<Timestamptz>,
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
    consent_records (id) {
        id -> Uuid,
        lead_id -> Uuid,
        submission_id -> Nullable<Uuid>,
        agreed -> Bool,
        wording -> Text,
        wording_sha256 -> Bytea,
        form_version -> Nullable<Text>,
        recorded_at -> Timestamptz,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        page_url -> Nullable<Text>,
        kind -> Text,
    }
}

diesel::table! {
    email_deliveries (id) {
        id -> Uuid,
        event_id -> Uuid,
        recipient -> Text,
        state -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    events (id) {
        id -> Uuid,
        #[sql_name = "type"]
        type_ -> Text,
        occurred_at -> Timestamptz,
        subject_id -> Uuid,
        payload -> Jsonb,
        personal -> Nullable<Jsonb>,
        dedupe_key -> Nullable<Text>,
        txid -> Int8,
    }
}

diesel::table! {
    idempotency_keys (scope, key, request_sha256) {
        scope -> Text,
        key -> Text,
        request_sha256 -> Bytea,
        response_status -> Int2,
        response_body -> Jsonb,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
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
    interests (code) {
        code -> Text,
        label -> Text,
        active -> Bool,
        position -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    lead_activity (id) {
        id -> Uuid,
        lead_id -> Uuid,
        at -> Timestamptz,
        actor -> Text,
        actor_key_id -> Nullable<Uuid>,
        action -> Text,
        from_status -> Nullable<Text>,
        to_status -> Nullable<Text>,
        assignee -> Nullable<Text>,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    lead_sources (id) {
        id -> Uuid,
        name -> Text,
        kind -> Text,
        enabled -> Bool,
        utm_source -> Nullable<Text>,
        utm_medium -> Nullable<Text>,
        utm_campaign -> Nullable<Text>,
        api_key_id -> Nullable<Uuid>,
        credentials -> Nullable<Jsonb>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        interests_question -> Nullable<Text>,
    }
}

diesel::table! {
    lead_submissions (id) {
        id -> Uuid,
        lead_id -> Uuid,
        received_at -> Timestamptz,
        duplicate -> Bool,
        spam_reason -> Nullable<Text>,
        utm_source -> Nullable<Text>,
        utm_medium -> Nullable<Text>,
        utm_campaign -> Nullable<Text>,
        utm_term -> Nullable<Text>,
        utm_content -> Nullable<Text>,
        gclid -> Nullable<Text>,
        fbclid -> Nullable<Text>,
        referrer -> Nullable<Text>,
        landing_page -> Nullable<Text>,
        article_slug -> Nullable<Text>,
        name -> Nullable<Text>,
        phone -> Nullable<Text>,
        phone_e164 -> Nullable<Text>,
        email -> Nullable<Text>,
        interests -> Nullable<Array<Nullable<Text>>>,
        message -> Nullable<Text>,
        preferred_contact_time -> Nullable<Text>,
        lead_source_id -> Nullable<Uuid>,
        external_id -> Nullable<Text>,
        custom_answers -> Nullable<Jsonb>,
        external_context -> Nullable<Jsonb>,
        is_test -> Bool,
    }
}

diesel::table! {
    leads (id) {
        id -> Uuid,
        status -> Text,
        priority -> Nullable<Text>,
        contact_by -> Timestamptz,
        marketing_consent -> Nullable<Bool>,
        submission_count -> Int4,
        first_received_at -> Timestamptz,
        last_received_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        name -> Nullable<Text>,
        phone -> Nullable<Text>,
        phone_e164 -> Nullable<Text>,
        email -> Nullable<Text>,
        interests -> Nullable<Array<Nullable<Text>>>,
        assignee -> Nullable<Text>,
        version -> Int4,
        source -> Nullable<Text>,
        first_contacted_at -> Nullable<Timestamptz>,
        contacted_on_time -> Nullable<Bool>,
        interest_count -> Nullable<Int4>,
        erased_at -> Nullable<Timestamptz>,
        erased_by -> Nullable<Text>,
        erased_by_key_id -> Nullable<Uuid>,
        opted_out_at -> Nullable<Timestamptz>,
        lead_source_id -> Nullable<Uuid>,
        is_test -> Bool,
    }
}

diesel::table! {
    meta_lead_fetches (id) {
        id -> Uuid,
        lead_source_id -> Uuid,
        leadgen_id -> Text,
        page_id -> Nullable<Text>,
        form_id -> Nullable<Text>,
        ad_id -> Nullable<Text>,
        adgroup_id -> Nullable<Text>,
        submitted_at -> Nullable<Timestamptz>,
        state -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    notification_recipients (address) {
        address -> Text,
    }
}

diesel::table! {
    rate_limit_windows (bucket, subject, window_start) {
        bucket -> Text,
        subject -> Bytea,
        window_start -> Timestamptz,
        count -> Int4,
    }
}

diesel::table! {
    suppressed_numbers (phone_hmac) {
        phone_hmac -> Bytea,
        opted_out_at -> Timestamptz,
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

diesel::table! {
    webhook_attempts (id) {
        id -> Uuid,
        delivery_id -> Uuid,
        number -> Int4,
        attempted_at -> Timestamptz,
        status_code -> Nullable<Int4>,
        latency_ms -> Int4,
        error -> Nullable<Text>,
        next_attempt_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Uuid,
        webhook_id -> Uuid,
        event_id -> Uuid,
        state -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Uuid,
        url -> Text,
        events -> Array<Nullable<Text>>,
        enabled -> Bool,
        include_personal_data -> Bool,
        description -> Nullable<Text>,
        format -> Text,
        secret -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamptz>,
        failing_since -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(article_slug_history -> articles (article_id));
diesel::joinable!(article_tags -> articles (article_id));
diesel::joinable!(article_tags -> tags (tag_id));
diesel::joinable!(consent_records -> lead_submissions (submission_id));
diesel::joinable!(consent_records -> leads (lead_id));
diesel::joinable!(email_deliveries -> events (event_id));
diesel::joinable!(lead_activity -> leads (lead_id));
diesel::joinable!(lead_sources -> api_keys (api_key_id));
diesel::joinable!(lead_submissions -> lead_sources (lead_source_id));
diesel::joinable!(lead_submissions -> leads (lead_id));
diesel::joinable!(leads -> lead_sources (lead_source_id));
diesel::joinable!(meta_lead_fetches -> lead_sources (lead_source_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));
diesel::joinable!(webhook_deliveries -> events (event_id));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));

diesel::allow_tables_to_appear_in_same_query!(
    access_audit,
    api_keys,
    article_slug_history,
    article_tags,
    articles,
    consent_records,
    email_deliveries,
    events,
    idempotency_keys,
    instance_secrets,
    interests,
    lead_activity,
    lead_sources,
    lead_submissions,
    leads,
    meta_lead_fetches,
    notification_recipients,
    rate_limit_windows,
    suppressed_numbers,
    tags,
    webhook_attempts,
    webhook_deliveries,
    webhooks,
);
