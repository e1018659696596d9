//! Who is calling: the `Caller` and `MaybeCaller` extractors. The scope a key must carry is not
//! written in handlers: it is the `security` entry of the operation's OpenAPI documentation
//! (read into [`Operations`] at start-up), so what the spec promises is what is enforced.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};

use crate::domain::api_key::{self, Caller};
use crate::domain::scope::Scope;
use crate::error::Error;
use crate::routes::operations::Operations;
use crate::routes::state::AppState;
use crate::services;

/// A key when one was sent: no header is `None`; a bad key, or one without the operation's
/// documented scope, is still a 401 or 403.
#[derive(Clone, Debug)]
pub struct MaybeCaller(pub Option<Caller>);

/// Extracting a `Caller` answers 401 when no valid key was sent and 403 when the key lacks the
/// scope the operation documents.
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

/// Resolves the `Authorization` header against the operation's documented scope: `Ok(None)`
/// inside when no header was sent.
fn authenticate(
    req: &HttpRequest,
) -> Result<impl Future<Output = Result<Option<Caller>, Error>> + use<>, Error> {
    const INVALID: Error = Error::Unauthorized("The API key is not valid or has been revoked.");
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| Error::internal("application state is missing"))?;
    let scope = required_scope(req)?;
    let presented = match req.headers().get(header::AUTHORIZATION) {
        None => None,
        Some(value) => {
            let value = value.to_str().map_err(|_| INVALID)?;
            Some(api_key::from_bearer(value).ok_or(INVALID)?.to_owned())
        }
    };
    Ok(async move {
        let Some(presented) = presented else {
            return Ok(None);
        };
        let caller = crate::db::run(&state.pool, move |conn| {
            services::api_keys::authenticate(conn, &presented)
        })
        .await?
        .ok_or(INVALID)?;
        if caller.scopes.contains(scope) {
            Ok(Some(caller))
        } else {
            Err(Error::Forbidden(scope.as_str()))
        }
    })
}

/// The scope the matched operation documents. A handler that reads the caller of an operation
/// documented without a key is a bug, caught by the test that calls every operation.
fn required_scope(req: &HttpRequest) -> Result<Scope, Error> {
    let operations = req
        .app_data::<web::Data<Operations>>()
        .ok_or_else(|| Error::internal("the operation table is missing"))?;
    let pattern = req.match_pattern().unwrap_or_default();
    operations
        .required_scope(req.method(), &pattern)
        .ok_or_else(|| {
            Error::internal(format!(
                "{} {pattern} reads the caller but documents no API key",
                req.method()
            ))
        })
}
