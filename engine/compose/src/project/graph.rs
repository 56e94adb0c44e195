//! Service dependency order: `depends_on` edges, cycles reported as Compose reports them.

use std::collections::BTreeMap;

use super::Service;

#[derive(Debug, thiserror::Error)]
#[error("dependency cycle detected: {}", .0.join(" -> "))]
pub struct DependencyError(pub Vec<String>);

/// Services ordered so that each comes after everything it depends on (ties by name).
pub fn dependency_order(services: &BTreeMap<String, Service>) -> Result<Vec<String>, DependencyError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Visiting,
        Done,
    }
    fn visit(
        name: &str,
        services: &BTreeMap<String, Service>,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
        out: &mut Vec<String>,
    ) -> Result<(), DependencyError> {
        match marks.get(name).copied().unwrap_or(Mark::New) {
            Mark::Done => return Ok(()),
            Mark::Visiting => {
                let start = stack.iter().position(|s| s == name).unwrap_or(0);
                let mut cycle = stack[start..].to_vec();
                cycle.push(name.to_string());
                return Err(DependencyError(cycle));
            }
            Mark::New => {}
        }
        marks.insert(name.to_string(), Mark::Visiting);
        stack.push(name.to_string());
        for dep in services[name].depends_on.keys().filter(|d| services.contains_key(*d)) {
            visit(dep, services, marks, stack, out)?;
        }
        stack.pop();
        marks.insert(name.to_string(), Mark::Done);
        out.push(name.to_string());
        Ok(())
    }
    let mut marks = BTreeMap::new();
    let mut out = Vec::new();
    for name in services.keys() {
        visit(name, services, &mut marks, &mut Vec::new(), &mut out)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::model::Dependency;

    fn svc(deps: &[&str]) -> Service {
        Service {
            depends_on: deps.iter().map(|d| (d.to_string(), Dependency::default())).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn orders_and_detects_cycles() {
        let mut s = BTreeMap::from([
            ("web".into(), svc(&["db", "cache"])),
            ("db".into(), svc(&[])),
            ("cache".into(), svc(&["db"])),
        ]);
        assert_eq!(dependency_order(&s).unwrap(), ["db", "cache", "web"]);
        s.insert("db".into(), svc(&["web"]));
        assert_eq!(
            dependency_order(&s).unwrap_err().to_string(),
            "dependency cycle detected: cache -> db -> web -> cache"
        );
    }
}
