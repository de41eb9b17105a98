//! Settings an adapter declares beyond the key and base URL (PiAPI's `service_mode`): the proxy
//! turns each into a flag and an environment variable, checks the value against the allowed
//! words, and hands the values to [`super::Adapter::upstream_request`]. A setting comes from the
//! operator only, never from a browser's request.

use alloc::{format, string::String, vec::Vec};

/// One extra setting of a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingSpec {
    /// The setting's name in snake case (`service_mode`): the proxy's flag is
    /// `--{id}-{name}` with hyphens, its variable `{ID}_{NAME}` in capitals.
    pub name: &'static str,
    /// What it does, for `--help`.
    pub help: &'static str,
    /// The accepted values; any other is refused when the proxy starts.
    pub allowed: &'static [&'static str],
}

impl SettingSpec {
    /// The flag's name without the dashes (`piapi-service-mode`).
    pub fn flag(&self, provider_id: &str) -> String {
        format!("{provider_id}-{}", self.name.replace('_', "-"))
    }

    /// The environment variable (`PIAPI_SERVICE_MODE`).
    pub fn env_var(&self, provider_id: &str) -> String {
        format!("{provider_id}_{}", self.name).to_ascii_uppercase()
    }
}

/// The values an operator set for a provider's [`SettingSpec`]s; a setting not set is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdapterSettings {
    values: Vec<(&'static str, String)>,
}

impl AdapterSettings {
    /// No setting set.
    pub fn new() -> Self {
        Self::default()
    }

    /// These settings with `name` set to `value` (a later value for the same name wins).
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.values.retain(|(known, _)| *known != name);
        self.values.push((name, value.into()));
        self
    }

    /// The value of `name`, when set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, value)| value.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_flags_and_variables_and_values_are_found() {
        let spec = SettingSpec {
            name: "service_mode",
            help: "",
            allowed: &["public"],
        };
        assert_eq!(spec.flag("piapi"), "piapi-service-mode");
        assert_eq!(spec.env_var("piapi"), "PIAPI_SERVICE_MODE");
        let settings = AdapterSettings::new()
            .with("service_mode", "public")
            .with("service_mode", "private");
        assert_eq!(settings.get("service_mode"), Some("private"));
        assert_eq!(settings.get("other"), None);
    }
}
