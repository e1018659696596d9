-- Staff e-mail notifications (issue 10). The addresses of `BEACON_NOTIFY_EMAILS`, written at
-- start-up while `BEACON_SMTP_URL` is set (empty otherwise), so an event's transaction can
-- queue its e-mails without knowing the settings.
CREATE TABLE notification_recipients (
    address text PRIMARY KEY
);

-- One e-mail per notifying event and recipient, inserted in the event's own transaction and
-- claimed like a webhook delivery (`db::queue`): `attempts` counts the claims and fences a
-- late result, `next_attempt_at` is the lease while an attempt runs.
CREATE TABLE email_deliveries (
    id uuid PRIMARY KEY,
    event_id uuid NOT NULL REFERENCES events (id),
    recipient text NOT NULL,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- Why the last attempt failed (the SMTP reply or transport error; never the message).
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, recipient)
);
CREATE INDEX email_deliveries_due ON email_deliveries (next_attempt_at) WHERE state = 'pending';
