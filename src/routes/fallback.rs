//! What answers when no route matched: 404, or 405 with `Allow` when the path exists under other
//! methods. The table is built from the OpenAPI document, which is built from the registered
//! routes, so it cannot disagree with them.

use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::openapi::OpenApi;

use crate::error::Error;

#[derive(Clone, Debug)]
pub struct RouteTable {
    routes: Vec<(Vec<Segment>, Vec<Method>)>,
}

#[derive(Clone, Debug, PartialEq)]
enum Segment {
    Literal(String),
    Parameter,
}

impl RouteTable {
    pub fn from_spec(spec: &OpenApi) -> Self {
        let mut routes: Vec<_> = spec
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    (Method::GET, &item.get),
                    (Method::POST, &item.post),
                    (Method::PUT, &item.put),
                    (Method::PATCH, &item.patch),
                    (Method::DELETE, &item.delete),
                ]
                .into_iter()
                .filter(|(_, operation)| operation.is_some())
                .map(|(method, _)| method)
                .collect();
                (segments(path), methods)
            })
            .collect();
        // Served by the Swagger UI service rather than a documented handler.
        routes.push((segments("/openapi.json"), vec![Method::GET]));
        routes.push((segments("/docs"), vec![Method::GET]));
        Self { routes }
    }

    /// The methods `path` answers to, or `None` when no route has this shape.
    pub fn allowed(&self, path: &str) -> Option<Vec<Method>> {
        let requested = segments(path);
        let mut allowed: Vec<Method> = Vec::new();
        for (pattern, methods) in &self.routes {
            if matches(pattern, &requested) {
                allowed.extend(methods.iter().cloned());
            }
        }
        allowed.dedup();
        (!allowed.is_empty()).then_some(allowed)
    }
}

fn segments(path: &str) -> Vec<Segment> {
    path.trim_matches('/')
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                Segment::Parameter
            } else {
                Segment::Literal(segment.to_owned())
            }
        })
        .collect()
}

fn matches(pattern: &[Segment], requested: &[Segment]) -> bool {
    pattern.len() == requested.len()
        && pattern.iter().zip(requested).all(|(p, r)| match (p, r) {
            (Segment::Parameter, Segment::Literal(value)) => !value.is_empty(),
            (p, r) => p == r,
        })
}

/// The app's default service.
pub async fn fallback(
    req: HttpRequest,
    table: web::Data<RouteTable>,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn table(routes: &[(&str, Vec<Method>)]) -> RouteTable {
        RouteTable {
            routes: routes
                .iter()
                .map(|(path, methods)| (segments(path), methods.clone()))
                .collect(),
        }
    }

    #[test]
    fn a_path_under_other_methods_lists_them_all() {
        let table = table(&[
            ("/v1/articles/{slug}", vec![Method::GET]),
            ("/v1/articles/{id}", vec![Method::PATCH, Method::DELETE]),
            ("/v1/articles", vec![Method::GET, Method::POST]),
        ]);
        assert_eq!(
            table.allowed("/v1/articles/abc"),
            Some(vec![Method::GET, Method::PATCH, Method::DELETE])
        );
        assert_eq!(
            table.allowed("/v1/articles/"),
            Some(vec![Method::GET, Method::POST])
        );
        assert_eq!(table.allowed("/v1/nothing"), None);
        assert_eq!(table.allowed("/v1/articles/a/b"), None);
    }
}
