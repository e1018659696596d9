//! The one place a request's sender is read: its address (through trusted proxies), user agent
//! and referring page.

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderName};

use crate::domain::client::{Client, USER_AGENT_MAX_CHARS};
use crate::domain::client_ip::TrustedProxies;
use crate::domain::text;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

pub fn client(req: &HttpRequest, proxies: &TrustedProxies) -> Client {
    let forwarded_for: Vec<&str> = req
        .headers()
        .get_all(X_FORWARDED_FOR)
        .filter_map(|value| value.to_str().ok())
        .collect();
    let header = |name| {
        req.headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|value| !value.is_empty())
    };
    Client {
        ip: req
            .peer_addr()
            .map(|peer| proxies.client_ip(peer.ip(), &forwarded_for)),
        user_agent: header(header::USER_AGENT)
            .map(|agent| agent.chars().take(USER_AGENT_MAX_CHARS).collect()),
        referer: header(header::REFERER).and_then(|referer| text::http_url(referer).ok()),
    }
}
