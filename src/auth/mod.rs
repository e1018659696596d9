//! API keys with scopes, and the extractors handlers use to require them.

pub mod key;
pub mod scope;

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use uuid::Uuid;

pub use scope::{Scope, Scopes};

use crate::error::Error;
use crate::services;
use crate::startup::AppState;

/// The key a request was made with. Extracting it answers 401 when the key is missing or not valid.
#[derive(Clone, Debug)]
pub struct Caller {
    pub key_id: Uuid,
    /// The key's name: recorded as "who" in audit and activity entries.
    pub key_name: String,
    pub scopes: Scopes,
}

impl Caller {
    /// 403 unless the key carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), Error> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(Error::Forbidden(scope.as_str()))
        }
    }
}

/// A key when one was sent: no header is `None`, a bad key is still a 401.
#[derive(Clone, Debug)]
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequest for Caller {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let lookup = authenticate(req);
        Box::pin(async move {
            lookup?.await?.ok_or(Error::Unauthorized(
                "Send an API key as `Authorization: Bearer <key>`.",
            ))
        })
    }
}

impl FromRequest for MaybeCaller {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let lookup = authenticate(req);
        Box::pin(async move { Ok(MaybeCaller(lookup?.await?)) })
    }
}

/// Resolves the `Authorization` header: `Ok(None)` inside when none was sent.
fn authenticate(
    req: &HttpRequest,
) -> Result<impl Future<Output = Result<Option<Caller>, Error>> + use<>, Error> {
    const INVALID: Error = Error::Unauthorized("The API key is not valid or has been revoked.");
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| Error::internal("application state is missing"))?;
    let presented = match req.headers().get(header::AUTHORIZATION) {
        None => None,
        Some(value) => {
            let value = value.to_str().map_err(|_| INVALID)?;
            Some(key::from_bearer(value).ok_or(INVALID)?.to_owned())
        }
    };
    Ok(async move {
        let Some(presented) = presented else {
            return Ok(None);
        };
        let caller = crate::db::run(&state.pool, move |conn| {
            services::api_keys::authenticate(conn, &presented)
        })
        .await?;
        caller.map(Some).ok_or(INVALID)
    })
}
