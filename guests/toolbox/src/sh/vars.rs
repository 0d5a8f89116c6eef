//! Shell variables: values with an exported flag, in first-set order. The exported ones are
//! the environment the shell hands to the applets it runs.

use crate::ctx::Env;

#[derive(Debug, Clone)]
struct Var {
    name: String,
    value: String,
    exported: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Vars(Vec<Var>);

impl Vars {
    /// Variables from an environment, all exported.
    pub fn from_env(env: &Env) -> Vars {
        Vars(env.iter().map(|(k, v)| Var { name: k.to_string(), value: v.to_string(), exported: true }).collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|v| v.name == name).map(|v| v.value.as_str())
    }

    /// Sets `name`, keeping whether it is exported.
    pub fn set(&mut self, name: &str, value: &str) {
        match self.0.iter_mut().find(|v| v.name == name) {
            Some(v) => v.value = value.to_string(),
            None => self.0.push(Var { name: name.to_string(), value: value.to_string(), exported: false }),
        }
    }

    /// Marks `name` exported, setting it first when a value is given.
    pub fn export(&mut self, name: &str, value: Option<&str>) {
        match (self.0.iter_mut().find(|v| v.name == name), value) {
            (Some(v), value) => {
                v.exported = true;
                if let Some(value) = value {
                    v.value = value.to_string();
                }
            }
            (None, value) => self.0.push(Var {
                name: name.to_string(),
                value: value.unwrap_or_default().to_string(),
                exported: true,
            }),
        }
    }

    pub fn unset(&mut self, name: &str) {
        self.0.retain(|v| v.name != name);
    }

    /// The exported variables.
    pub fn env(&self) -> Env {
        let mut env = Env::default();
        for v in self.0.iter().filter(|v| v.exported) {
            env.set(&v.name, &v.value);
        }
        env
    }

    /// Every variable as `(name, value, exported)`, sorted by name (for `set` and `export`).
    pub fn sorted(&self) -> Vec<(&str, &str, bool)> {
        let mut all: Vec<_> = self.0.iter().map(|v| (v.name.as_str(), v.value.as_str(), v.exported)).collect();
        all.sort();
        all
    }
}
