//! How `capture` and `watch` reach a service: headers, timeouts, size caps
//! and TLS certificates, given the same way to both.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::capture::parse_duration;
use crate::live::{FetchLimits, Header, Timeouts, TlsFiles};
use crate::watch::discover::{Discovered, Source};

#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// Extra request header, `Name: value`; repeat for more
    /// ('Authorization: Bearer …', 'Cookie: session=…').
    #[arg(long = "header", short = 'H', value_name = "HEADER")]
    headers: Vec<String>,
    /// Read request headers from a file, one `Name: value` per line (`#`
    /// starts a comment), so tokens stay out of shell history and `ps`.
    #[arg(long, value_name = "FILE")]
    headers_from: Option<PathBuf>,
    /// Connect timeout.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    connect_timeout: Duration,
    /// Longest wait for a response or within a body (traces and CPU
    /// profiles get their duration on top).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    read_timeout: Duration,
    /// Largest response accepted, in MiB.
    #[arg(long, value_name = "MIB")]
    max_body_mib: Option<u64>,
    /// Largest decompressed size of a gzip profile, in MiB.
    #[arg(long, value_name = "MIB")]
    max_inflated_mib: Option<u64>,
    /// PEM file of the certificate authorities to trust for https targets,
    /// instead of the public ones (a staging or internal CA).
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// PEM client certificate for targets that ask for one (mutual TLS); needs --key.
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// PEM private key of --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
}

/// [`ConnectionArgs`] read and checked.
#[derive(Debug)]
pub struct Connection {
    pub headers: Vec<Header>,
    pub timeouts: Timeouts,
    pub limits: FetchLimits,
    pub tls: TlsFiles,
}

impl ConnectionArgs {
    pub fn resolve(&self) -> anyhow::Result<Connection> {
        let mut lines = self.headers.clone();
        if let Some(path) = &self.headers_from {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            lines.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_owned),
            );
        }
        let headers = lines
            .iter()
            .map(|h| Header::parse(h))
            .collect::<Result<_, _>>()?;
        let timeouts = Timeouts {
            connect: self.connect_timeout,
            resolve: self.connect_timeout,
            read: self.read_timeout,
            ..Timeouts::default()
        };
        let mut limits = FetchLimits::default();
        if let Some(mib) = self.max_body_mib {
            limits.max_body_bytes = mib.saturating_mul(1 << 20);
        }
        if let Some(mib) = self.max_inflated_mib {
            limits.max_inflated_bytes = mib.saturating_mul(1 << 20);
        }
        Ok(Connection {
            headers,
            timeouts,
            limits,
            tls: TlsFiles {
                ca: self.ca.clone(),
                cert: self.cert.clone(),
                key: self.key.clone(),
            },
        })
    }
}

/// Where `watch` and `capture` find a fleet's instances: a Prometheus scrape
/// job, or a file of targets.
#[derive(Debug, Args)]
pub struct DiscoveryArgs {
    /// The instances of a Prometheus scrape job: the Prometheus
    /// server's URL (its /api/v1/targets is read every --refresh).
    #[arg(long, value_name = "URL", requires = "job")]
    targets_from: Option<String>,
    /// The scrape job whose instances to take (with --targets-from).
    #[arg(long, value_name = "NAME")]
    job: Option<String>,
    /// Only instances whose target carries this label, `name=value`; repeat for more.
    #[arg(
        long = "target-label",
        value_name = "NAME=VALUE",
        requires = "targets_from"
    )]
    target_labels: Vec<String>,
    /// The targets listed in this file, one per line (read again every --refresh).
    #[arg(long, value_name = "FILE", conflicts_with = "targets_from")]
    targets_file: Option<PathBuf>,
    /// The port instances serve pprof on, when not the port Prometheus scrapes.
    #[arg(long, value_name = "PORT")]
    pprof_port: Option<u16>,
    /// The path of the pprof folder on each discovered instance.
    #[arg(long, default_value = "/debug/pprof/", value_name = "PATH")]
    pprof_path: String,
}

impl DiscoveryArgs {
    /// The discovery source, if one was given; listed again every `refresh`.
    pub fn discovered(&self, refresh: Duration) -> anyhow::Result<Option<Discovered>> {
        let source = match (&self.targets_from, &self.targets_file) {
            (Some(url), _) => {
                let matchers = self
                    .target_labels
                    .iter()
                    .map(|m| {
                        m.split_once('=')
                            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                            .ok_or_else(|| {
                                anyhow::anyhow!("--target-label {m:?}: expected NAME=VALUE")
                            })
                    })
                    .collect::<anyhow::Result<_>>()?;
                Source::Prometheus {
                    url: url.clone(),
                    job: self.job.clone().unwrap_or_default(),
                    matchers,
                }
            }
            (None, Some(file)) => Source::File(file.clone()),
            (None, None) => return Ok(None),
        };
        Ok(Some(Discovered {
            refresh: refresh.max(Duration::from_secs(1)),
            pprof_port: self.pprof_port,
            pprof_path: self.pprof_path.clone(),
            ..Discovered::new(source)
        }))
    }
}
