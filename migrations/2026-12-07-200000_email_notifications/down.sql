DROP TABLE email_deliveries;
DROP TABLE notification_recipients;
