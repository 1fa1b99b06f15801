//! Where a fleet's targets come from: the instances of a Prometheus scrape
//! job, or a plain file of targets, asked again every refresh so instances
//! that come and go are watched and dropped.
//!
//! Prometheus already knows every instance of a service (it scrapes them);
//! its `/api/v1/targets` lists each with its labels and scrape URL. The
//! pprof URL of an instance is the same host with the port (and path) the
//! service serves pprof on, which the user gives: the metrics port is often
//! not the pprof one.

use std::path::PathBuf;
use std::time::Duration;

use crate::live::{Target, prometheus};

/// Largest targets file read.
const MAX_LIST_BYTES: usize = 16 << 20;

/// Where targets are listed.
#[derive(Clone, Debug)]
pub enum Source {
    /// The active targets of a scrape job, with label matchers.
    Prometheus {
        /// The Prometheus server, e.g. `http://prometheus:9090`.
        url: String,
        /// The scrape job whose targets are watched (its `job` label).
        job: String,
        /// `label=value` pairs every target must carry.
        matchers: Vec<(String, String)>,
    },
    /// One target per line (`#` starts a comment).
    File(PathBuf),
}

/// A source of targets and how to turn what it lists into pprof URLs.
#[derive(Clone, Debug)]
pub struct Discovered {
    /// Where the list of targets comes from.
    pub source: Source,
    /// How often the source is asked again.
    pub refresh: Duration,
    /// The port pprof is served on, when not the scrape port.
    pub pprof_port: Option<u16>,
    /// The path of the pprof folder on each instance.
    pub pprof_path: String,
}

impl Discovered {
    /// Asks the source every minute and expects pprof at `/debug/pprof/` on the scrape port.
    pub fn new(source: Source) -> Discovered {
        Discovered {
            source,
            refresh: Duration::from_secs(60),
            pprof_port: None,
            pprof_path: "/debug/pprof/".to_owned(),
        }
    }

    /// The targets the source lists now.
    pub fn list(&self, cancelled: &dyn Fn() -> bool) -> Result<Vec<Target>, String> {
        match &self.source {
            Source::File(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                if text.len() > MAX_LIST_BYTES {
                    return Err(format!("{}: larger than 16 MiB", path.display()));
                }
                text.lines()
                    .map(|l| l.split('#').next().unwrap_or("").trim())
                    .filter(|l| !l.is_empty())
                    .map(|l| Target::parse(l).map_err(|e| format!("{}: {e}", path.display())))
                    .collect()
            }
            Source::Prometheus { url, job, matchers } => {
                let scrape_urls = prometheus::job_targets(url, job, matchers, cancelled)?;
                scrape_urls.iter().map(|u| self.pprof_target(u)).collect()
            }
        }
    }

    /// The pprof folder on the host a scrape URL names.
    fn pprof_target(&self, scrape_url: &str) -> Result<Target, String> {
        let scrape = Target::parse(scrape_url).map_err(|e| e.to_string())?;
        let o = scrape.origin();
        let port = self.pprof_port.unwrap_or(o.port);
        let host = if o.host.contains(':') {
            format!("[{}]", o.host)
        } else {
            o.host.clone()
        };
        let path = format!("/{}", self.pprof_path.trim_start_matches('/'));
        Target::parse(&format!("{}://{host}:{port}{path}", o.scheme.as_str()))
            .map_err(|e| e.to_string())
    }
}
