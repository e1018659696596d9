//! What answers when no route matched: 404, or 405 with `Allow` when the path exists under other
//! methods, as the documented [`Operations`] say.

use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::Error;
use crate::routes::operations::Operations;

/// The app's default service.
pub async fn fallback(
    req: HttpRequest,
    table: web::Data<Operations>,
) -> Result<HttpResponse, Error> {
    let Some(mut allowed) = table.allowed(req.path()) else {
        return Err(Error::NotFound);
    };
    allowed.push(Method::OPTIONS);
    if req.method() == Method::OPTIONS {
        let allow: Vec<&str> = allowed.iter().map(Method::as_str).collect();
        return Ok(HttpResponse::NoContent()
            .insert_header((header::ALLOW, allow.join(", ")))
            .finish());
    }
    Err(Error::MethodNotAllowed(allowed))
}
