//! The documented operations, read from the OpenAPI document (which is built from the registered
//! routes, so it cannot disagree with them): which methods a path answers to, for 404 and 405,
//! and which scope each keyed operation requires, for the `Caller` extractors.

use std::collections::HashMap;

use actix_web::http::Method;
use utoipa::openapi::OpenApi;
use utoipa::openapi::path::Operation;

use crate::domain::scope::Scope;

/// The one security scheme keyed operations name.
const API_KEY_SCHEME: &str = "api_key";

#[derive(Clone, Debug)]
pub struct Operations {
    paths: Vec<(Vec<Segment>, Vec<Method>)>,
    /// Keyed by method and the route pattern as actix names it (`/v1/leads/{id}`).
    scopes: HashMap<(Method, String), Scope>,
}

#[derive(Clone, Debug, PartialEq)]
enum Segment {
    Literal(String),
    Parameter,
    /// A parameter between fixed text within one segment, such as `lead-form.{version}.js`.
    Template {
        prefix: String,
        suffix: String,
    },
}

/// An operation's `security` that Beacon cannot enforce.
#[derive(Debug, thiserror::Error)]
#[error("{method} {path}: {problem}")]
pub struct SecurityError {
    method: Method,
    path: String,
    problem: String,
}

impl Operations {
    pub fn from_spec(spec: &OpenApi) -> Result<Self, SecurityError> {
        let mut paths = Vec::new();
        let mut scopes = HashMap::new();
        for (path, item) in &spec.paths.paths {
            let mut methods = Vec::new();
            for (method, operation) in [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::PATCH, &item.patch),
                (Method::DELETE, &item.delete),
            ] {
                let Some(operation) = operation else { continue };
                let fail = |problem: String| SecurityError {
                    method: method.clone(),
                    path: path.clone(),
                    problem,
                };
                if let Some(scope) = required_scope(operation).map_err(fail)? {
                    scopes.insert((method.clone(), path.clone()), scope);
                }
                methods.push(method);
            }
            paths.push((segments(path), methods));
        }
        // Served by the Swagger UI service rather than a documented handler.
        paths.push((segments("/openapi.json"), vec![Method::GET]));
        paths.push((segments("/docs"), vec![Method::GET]));
        Ok(Self { paths, scopes })
    }

    /// The methods `path` answers to, or `None` when no route has this shape.
    pub fn allowed(&self, path: &str) -> Option<Vec<Method>> {
        let requested = segments(path);
        let mut allowed: Vec<Method> = Vec::new();
        for (pattern, methods) in &self.paths {
            if matches(pattern, &requested) {
                allowed.extend(methods.iter().cloned());
            }
        }
        allowed.dedup();
        (!allowed.is_empty()).then_some(allowed)
    }

    /// The scope a key needs for the operation at `pattern`; `None` when it documents no key.
    pub fn required_scope(&self, method: &Method, pattern: &str) -> Option<Scope> {
        self.scopes
            .get(&(method.clone(), pattern.to_owned()))
            .copied()
    }
}

/// The one scope an operation's `security` names. An empty alternative (`()`) makes the key
/// optional; the handler then decides when it needs one.
fn required_scope(operation: &Operation) -> Result<Option<Scope>, String> {
    let mut required = None;
    for requirement in operation.security.iter().flatten() {
        let requirement = serde_json::to_value(requirement).map_err(|e| e.to_string())?;
        let Some(schemes) = requirement.as_object() else {
            return Err(format!("unreadable security requirement {requirement}"));
        };
        for (scheme, names) in schemes {
            if scheme != API_KEY_SCHEME {
                return Err(format!("unknown security scheme `{scheme}`"));
            }
            let names: Vec<&str> = names
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|name| name.as_str())
                .collect();
            let [name] = names[..] else {
                return Err(format!("names {names:?}; exactly one scope is supported"));
            };
            let scope = Scope::parse(name).ok_or_else(|| format!("unknown scope `{name}`"))?;
            if required
                .replace(scope)
                .is_some_and(|earlier| earlier != scope)
            {
                return Err("requires different scopes in different alternatives".to_owned());
            }
        }
    }
    Ok(required)
}

fn segments(path: &str) -> Vec<Segment> {
    path.trim_matches('/')
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                return Segment::Parameter;
            }
            match (segment.find('{'), segment.rfind('}')) {
                (Some(open), Some(close)) if open < close => Segment::Template {
                    prefix: segment[..open].to_owned(),
                    suffix: segment[close + 1..].to_owned(),
                },
                _ => Segment::Literal(segment.to_owned()),
            }
        })
        .collect()
}

fn matches(pattern: &[Segment], requested: &[Segment]) -> bool {
    pattern.len() == requested.len()
        && pattern.iter().zip(requested).all(|(p, r)| match (p, r) {
            (Segment::Parameter, Segment::Literal(value)) => !value.is_empty(),
            (Segment::Template { prefix, suffix }, Segment::Literal(value)) => {
                value.len() > prefix.len() + suffix.len()
                    && value.starts_with(prefix.as_str())
                    && value.ends_with(suffix.as_str())
            }
            (p, r) => p == r,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(routes: &[(&str, Vec<Method>)]) -> Operations {
        Operations {
            paths: routes
                .iter()
                .map(|(path, methods)| (segments(path), methods.clone()))
                .collect(),
            scopes: HashMap::new(),
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

    #[test]
    fn a_parameter_inside_a_segment_matches_between_its_fixed_text() {
        let table = table(&[("/v1/embed/lead-form.{version}.js", vec![Method::GET])]);
        assert_eq!(
            table.allowed("/v1/embed/lead-form.abc.js"),
            Some(vec![Method::GET])
        );
        assert_eq!(table.allowed("/v1/embed/lead-form..js"), None);
        assert_eq!(table.allowed("/v1/embed/other.abc.js"), None);
    }
}
