//! `config`: the project in canonical form, or one of its lists.

use std::io::Write;

use serde_json::Value;

use super::Ctx;
use crate::cli::{ConfigArgs, ConfigFormat};
use crate::convergence::container::image_name;
use crate::error::{ComposeError, Result};

/// Top-level keys in the order Compose prints them; extensions (`x-*`) follow.
const ORDER: [&str; 6] = ["name", "services", "networks", "volumes", "secrets", "configs"];

pub fn run(ctx: &Ctx, args: &ConfigArgs) -> Result<i32> {
    let project = ctx.project(&args.service_names)?;
    let lines: Option<Vec<String>> = if args.services {
        Some(project.services.keys().cloned().collect())
    } else if args.volumes {
        Some(project.volumes.keys().cloned().collect())
    } else if args.networks {
        Some(project.networks.keys().cloned().collect())
    } else if args.profiles {
        Some(project.all_profiles.iter().cloned().collect())
    } else if args.images {
        Some(project.services.values().map(|s| image_name(&project, s)).collect())
    } else {
        None
    };
    if args.quiet {
        return Ok(0);
    }
    let text = match lines {
        Some(lines) => lines.iter().map(|l| format!("{l}\n")).collect(),
        None => {
            let mut doc = project.doc.clone();
            if !args.service_names.is_empty() {
                if let Some(services) = doc.get_mut("services").and_then(Value::as_object_mut) {
                    services.retain(|k, _| args.service_names.contains(k));
                }
            }
            escape_dollars(&mut doc);
            render(&doc, args.format)?
        }
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| ComposeError::Failed(format!("{}: {e}", path.display())))?
        }
        None => {
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
    }
    Ok(0)
}

/// The output must load again to the same project, so literal `$` are written as `$$`.
fn escape_dollars(v: &mut Value) {
    match v {
        Value::String(s) if s.contains('$') => *s = s.replace('$', "$$"),
        Value::Array(items) => items.iter_mut().for_each(escape_dollars),
        Value::Object(map) => map.values_mut().for_each(escape_dollars),
        _ => {}
    }
}

fn render(doc: &Value, format: ConfigFormat) -> Result<String> {
    let failed = |e: String| ComposeError::Failed(format!("rendering the project: {e}"));
    let root = doc.as_object().cloned().unwrap_or_default();
    match format {
        ConfigFormat::Json => {
            let mut text = serde_json::to_string_pretty(&Value::Object(root)).map_err(|e| failed(e.to_string()))?;
            text.push('\n');
            Ok(text)
        }
        ConfigFormat::Yaml => {
            // serde_norway keeps insertion order, which is how the top level gets Compose's order.
            let mut mapping = serde_norway::Mapping::new();
            for key in ORDER {
                if let Some(v) = root.get(key) {
                    mapping.insert(key.into(), serde_norway::to_value(v).map_err(|e| failed(e.to_string()))?);
                }
            }
            for (k, v) in root.iter().filter(|(k, _)| !ORDER.contains(&k.as_str())) {
                mapping.insert(k.as_str().into(), serde_norway::to_value(v).map_err(|e| failed(e.to_string()))?);
            }
            serde_norway::to_string(&mapping).map_err(|e| failed(e.to_string()))
        }
    }
}
