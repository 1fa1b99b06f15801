//! The `/debug/pprof/` index page: which profiles a server offers.
//!
//! `goroutineleak` exists only in newer Go builds, and custom profiles
//! (`pprof.NewProfile`) show up here too, so the poller reads the index once
//! instead of guessing. Go writes one table row per profile:
//! `<tr><td>45</td><td><a href='goroutine?debug=1'>goroutine</a></td></tr>`.

/// What the index lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerInfo {
    /// Profile names in index order, with the count the index shows
    /// (`None` for `profile`, `trace` and `cmdline`, which have none).
    pub profiles: Vec<(String, Option<u64>)>,
}

impl ServerInfo {
    /// Whether the index lists `name`; asking for an unlisted profile only earns a 404.
    pub fn offers(&self, name: &str) -> bool {
        self.profiles.iter().any(|(n, _)| n == name)
    }

    /// The profile names alone, in index order, for a menu of what to capture.
    pub fn names(&self) -> Vec<String> {
        self.profiles.iter().map(|(n, _)| n.clone()).collect()
    }

    /// The goroutine count the index shows, a cheap liveness number.
    pub fn goroutines(&self) -> Option<u64> {
        self.profiles
            .iter()
            .find(|(n, _)| n == "goroutine")
            .and_then(|(_, c)| *c)
    }
}

/// Reads an index page; `None` when it is not one (a login page, another app).
pub fn parse_index(html: &str) -> Option<ServerInfo> {
    let mut profiles = Vec::new();
    for row in html.split("<tr>").skip(1) {
        let row = row.split("</tr>").next().unwrap_or("");
        let Some(name) = link_target(row) else {
            continue;
        };
        let count = row
            .split("<td>")
            .filter_map(|cell| cell.split("</td>").next())
            .find_map(|cell| cell.trim().parse::<u64>().ok());
        if !profiles
            .iter()
            .any(|(n, _): &(String, Option<u64>)| *n == name)
        {
            profiles.push((name, count));
        }
    }
    (!profiles.is_empty()).then_some(ServerInfo { profiles })
}

/// `goroutine` from `<a href='goroutine?debug=1'>`.
fn link_target(row: &str) -> Option<String> {
    let start = row.find("href=")? + "href=".len();
    let rest = row.get(start..)?;
    let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let value = rest.get(1..)?.split(quote).next()?;
    let name = value.strip_suffix("?debug=1")?;
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'));
    valid.then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_go_index() {
        let html = "<html><head><title>/debug/pprof/</title></head><body>\n\
            <table><thead><td>Count</td><td>Profile</td></thead>\n\
            <tr><td>12</td><td><a href='allocs?debug=1'>allocs</a></td></tr>\n\
            <tr><td>45</td><td><a href='goroutine?debug=1'>goroutine</a></td></tr>\n\
            <tr><td>3</td><td><a href='goroutineleak?debug=1'>goroutineleak</a></td></tr>\n\
            <tr><td>0</td><td><a href='profile?debug=1'>profile</a></td></tr>\n\
            </table><a href=\"goroutine?debug=2\">full goroutine stack dump</a>";
        let info = parse_index(html).unwrap();
        assert_eq!(
            info.names(),
            ["allocs", "goroutine", "goroutineleak", "profile"]
        );
        assert!(info.offers("goroutineleak"));
        assert_eq!(info.goroutines(), Some(45));
    }

    #[test]
    fn other_pages_are_not_indexes() {
        assert_eq!(parse_index("<html><form>Sign in</form></html>"), None);
        assert_eq!(parse_index(""), None);
    }
}
