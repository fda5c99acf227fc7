//! `redorm`: look into any redorm database file without the application's structs. Every
//! command reads the schema the file's catalog stores (see `redorm::inspect`).
//!
//! Exit status: 0 when all is well; 1 when `check` finds problems, `jobs --run` has failed
//! jobs, `get` finds no row, or the file is damaged; 2 for bad input (a path that is not a
//! redorm file, an unknown table, column or index, a malformed condition, id or cursor) and
//! for a file another process holds.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use redorm::inspect::{Condition, Deleted, InspectError, Inspector, Row, RowQuery, TableDesc};
use redorm::{DeleteMode, OnDelete, OnSoftDelete};

#[derive(Parser)]
#[command(
    name = "redorm",
    version,
    about = "Inspect a redorm database file by the schema it stores",
    long_about = "Inspect a redorm database file by the schema it stores: no application code \
                  needed. Read-only, except `jobs --run` and `compact`, which say so."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Tables with their row counts (live and soft-deleted), indexes with entry counts,
    /// relations and delete mode.
    Tables {
        /// The database file.
        file: PathBuf,
    },
    /// Columns with types and defaults, indexes, foreign keys with their actions, relations.
    Schema {
        /// The database file.
        file: PathBuf,
        /// Only this table.
        table: Option<String>,
    },
    /// Rows of a table, decoded by the stored schema.
    Rows(RowsArgs),
    /// One row (`table:id`) and the relations asked for.
    Get {
        /// The database file.
        file: PathBuf,
        /// The row, as `table:id` (e.g. `users:42`).
        id: String,
        /// Relations to load, comma-separated; nested with dots (`posts,posts.comments`).
        #[arg(long, value_delimiter = ',')]
        with: Vec<String>,
        /// Show soft-deleted related rows too (`include`) or only them (`only`).
        #[arg(long, value_enum)]
        deleted: Option<DeletedArg>,
    },
    /// The integrity report: rows decode, indexes match rows, foreign keys resolve, counters
    /// and jobs are sound. Exit status 1 when anything is wrong.
    Check {
        /// The database file.
        file: PathBuf,
    },
    /// Pending scheduled deletions; with `--run`, run the due ones (writes to the file).
    Jobs {
        /// The database file.
        file: PathBuf,
        /// Run the jobs that are due (opens the file for writing).
        #[arg(long)]
        run: bool,
    },
    /// A consistent copy of the whole file (DEST must not exist).
    Backup {
        /// The database file.
        file: PathBuf,
        /// The new file.
        dest: PathBuf,
    },
    /// Give free pages back to the file system (writes to the file).
    Compact {
        /// The database file.
        file: PathBuf,
    },
    /// File size, and entries and data bytes per table and per index.
    Stats {
        /// The database file.
        file: PathBuf,
    },
}

#[derive(clap::Args)]
struct RowsArgs {
    /// The database file.
    file: PathBuf,
    /// The table.
    table: String,
    /// A condition `column=value` (also `!=`, `<`, `<=`, `>`, `>=`; `null` for none);
    /// repeatable, all must hold. Conditions on indexed columns use the index.
    #[arg(long = "where", value_name = "CONDITION")]
    conditions: Vec<String>,
    /// Read this index.
    #[arg(long)]
    index: Option<String>,
    /// Order by a column (or `id`, `created_at`): `col` or `col:desc`.
    #[arg(long, value_name = "COLUMN[:desc]")]
    order: Option<String>,
    /// Most rows shown.
    #[arg(long, default_value_t = 100)]
    limit: usize,
    /// Start after this cursor (printed after a page that has more).
    #[arg(long)]
    cursor: Option<String>,
    /// Show soft-deleted rows too (`include`) or only them (`only`).
    #[arg(long, value_enum)]
    deleted: Option<DeletedArg>,
    /// One JSON object per line (the default when stdout is not a terminal).
    #[arg(long, conflicts_with = "table_format")]
    json: bool,
    /// An aligned table (the default on a terminal).
    #[arg(long = "table", id = "table_format")]
    table_format: bool,
    /// Print the plan (which index, which bounds) instead of the rows.
    #[arg(long)]
    explain: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum DeletedArg {
    Include,
    Only,
}

fn deleted(arg: Option<DeletedArg>) -> Deleted {
    match arg {
        None => Deleted::Exclude,
        Some(DeletedArg::Include) => Deleted::Include,
        Some(DeletedArg::Only) => Deleted::Only,
    }
}

/// A failure, with the exit status it gives.
struct Failure {
    message: String,
    status: u8,
}

impl From<InspectError> for Failure {
    fn from(e: InspectError) -> Self {
        Failure {
            status: if e.is_input_error() { 2 } else { 1 },
            message: e.to_string(),
        }
    }
}

fn main() -> ExitCode {
    // A bug must still end in one line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let detail = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        eprintln!("redorm: internal error: {detail}; please report this");
    }));
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(status) => ExitCode::from(status),
        Err(f) => {
            eprintln!("redorm: {}", f.message.replace('\n', " "));
            ExitCode::from(f.status)
        }
    }
}

/// Output to stdout; a closed pipe (`| head`) ends the program quietly.
struct Out(std::io::StdoutLock<'static>);

impl Out {
    fn line(&mut self, text: impl AsRef<str>) {
        let ok = writeln!(self.0, "{}", text.as_ref()).is_ok();
        if !ok {
            std::process::exit(0);
        }
    }
}

/// A spinner on stderr while `f` runs, when stderr is a terminal; nothing when piped.
fn with_progress<R>(message: &str, f: impl FnOnce() -> R) -> R {
    if !std::io::stderr().is_terminal() {
        return f();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
        bar.set_style(style);
    }
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(100));
    let out = f();
    bar.finish_and_clear();
    out
}

fn writes(file: &Path, what: &str) {
    eprintln!("redorm: {what} writes to `{}`", file.display());
}

fn run(command: Command) -> Result<u8, Failure> {
    let mut out = Out(std::io::stdout().lock());
    match command {
        Command::Tables { file } => {
            let ins = Inspector::open(&file)?;
            for t in ins.tables() {
                let counts = ins.counts(&t.name)?;
                out.line(format!(
                    "{}: {} live, {} soft-deleted, delete = {}",
                    t.name,
                    counts.live,
                    counts.deleted,
                    delete_mode(t.delete)
                ));
                for (i, index) in t.indexes.iter().enumerate() {
                    let n = counts.index_entries.get(i).copied().unwrap_or_default();
                    out.line(format!(
                        "  index {}{} ({}): {}",
                        index.name,
                        if index.unique { " unique" } else { "" },
                        index.columns.join(", "),
                        count(n, "entry", "entries")
                    ));
                }
                for line in relation_lines(&ins, t) {
                    out.line(format!("  relation {line}"));
                }
            }
            Ok(0)
        }
        Command::Schema { file, table } => {
            let ins = Inspector::open(&file)?;
            let tables: Vec<&TableDesc> = match &table {
                Some(name) => vec![ins.table(name)?],
                None => ins.tables().iter().collect(),
            };
            for (i, t) in tables.into_iter().enumerate() {
                if i > 0 {
                    out.line("");
                }
                schema(&mut out, &ins, t);
            }
            Ok(0)
        }
        Command::Rows(args) => rows(&mut out, args),
        Command::Get {
            file,
            id,
            with,
            deleted: d,
        } => {
            let ins = Inspector::open(&file)?;
            let (table, id) = ins.parse_id(&id)?;
            let with: Vec<&str> = with.iter().map(String::as_str).collect();
            match ins.get(&table, id, &with, deleted(d))? {
                Some(row) => {
                    out.line(row.to_json());
                    Ok(0)
                }
                None => Err(Failure {
                    message: format!("table `{table}` has no row {table}:{id}"),
                    status: 1,
                }),
            }
        }
        Command::Check { file } => {
            let ins = Inspector::open(&file)?;
            let report = with_progress("checking", || ins.check())?;
            out.line(report.to_string());
            Ok(if report.is_ok() { 0 } else { 1 })
        }
        Command::Jobs { file, run } => {
            if run {
                writes(&file, "jobs --run");
                let ins = Inspector::open_writable(&file)?;
                let report = with_progress("running due jobs", || ins.run_due_jobs())?;
                out.line(format!(
                    "{} completed, {} cancelled, {} rows deleted, {} rows updated, {} batches, {} failed",
                    report.completed,
                    report.cancelled,
                    report.rows_deleted,
                    report.rows_updated,
                    report.batches,
                    report.failed.len()
                ));
                for f in &report.failed {
                    out.line(format!("failed {}: {}", f.key, f.error));
                }
                return Ok(if report.failed.is_empty() { 0 } else { 1 });
            }
            let ins = Inspector::open(&file)?;
            let jobs = ins.pending_jobs()?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
            if jobs.is_empty() {
                out.line("no pending jobs");
            }
            for job in jobs {
                let row = match (&job.table, job.id) {
                    (Some(t), Some(id)) => format!("{t}:{id}"),
                    _ => "?".to_string(),
                };
                let due = match job.due_ms {
                    Some(ms) if ms <= now => format!("due at {ms} (due now)"),
                    Some(ms) => format!("due at {ms} (in {})", human_ms(ms - now)),
                    None => "due at ?".to_string(),
                };
                let problem = job.problem.map(|p| format!(": {p}")).unwrap_or_default();
                out.line(format!("{}  purge {row}  {due}{problem}", job.key));
            }
            Ok(0)
        }
        Command::Backup { file, dest } => {
            let ins = Inspector::open(&file)?;
            let report = with_progress("backing up", || ins.backup_to(&dest))?;
            out.line(format!(
                "backed up {} tables, {} rows, {} index entries to {}",
                report.tables,
                report.rows,
                report.index_entries,
                dest.display()
            ));
            Ok(0)
        }
        Command::Compact { file } => {
            writes(&file, "compact");
            let before = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            let ins = Inspector::open_writable(&file)?;
            with_progress("compacting", || -> Result<(), InspectError> {
                while ins.compact()? {}
                Ok(())
            })?;
            drop(ins);
            let after = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            out.line(format!(
                "compacted {}: {before} -> {after} bytes",
                file.display()
            ));
            Ok(0)
        }
        Command::Stats { file } => {
            let ins = Inspector::open(&file)?;
            let stats = ins.stats()?;
            out.line(format!("file: {} bytes", stats.file_bytes));
            for t in &stats.tables {
                out.line(format!(
                    "table {}: {}, {} bytes",
                    t.name,
                    count(t.entries, "row", "rows"),
                    t.bytes
                ));
                let prefix = format!("{}#", t.name);
                for i in stats.indexes.iter().filter(|i| i.name.starts_with(&prefix)) {
                    out.line(format!(
                        "  index {}: {}, {} bytes",
                        &i.name[prefix.len()..],
                        count(i.entries, "entry", "entries"),
                        i.bytes
                    ));
                }
            }
            Ok(0)
        }
    }
}

/// `1 row`, `2 rows`.
fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn human_ms(ms: i64) -> String {
    let s = ms / 1000;
    match s {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m {}s", s / 60, s % 60),
        s if s < 86_400 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        s => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

fn delete_mode(mode: Option<DeleteMode>) -> String {
    match mode {
        None => "unknown (catalog format 1)".to_string(),
        Some(DeleteMode::Hard) => "hard".to_string(),
        Some(DeleteMode::Soft) => "soft".to_string(),
        Some(DeleteMode::Scheduled { delay_ms }) => {
            format!(
                "scheduled after {}",
                human_ms(i64::try_from(delay_ms).unwrap_or(i64::MAX))
            )
        }
    }
}

fn on_delete(a: OnDelete) -> &'static str {
    match a {
        OnDelete::Restrict => "restrict",
        OnDelete::Cascade => "cascade",
        OnDelete::SetNull => "set_null",
        OnDelete::SetDefault => "set_default",
    }
}

fn on_soft_delete(a: OnSoftDelete) -> &'static str {
    match a {
        OnSoftDelete::Ignore => "ignore",
        OnSoftDelete::Cascade => "cascade",
    }
}

/// `name -> target (kind)` for each relation of `t`.
fn relation_lines(ins: &Inspector, t: &TableDesc) -> Vec<String> {
    t.relations
        .iter()
        .map(|r| {
            let kind = if let Some(fk) = t.foreign_keys.iter().find(|fk| fk.relation == r.name) {
                format!("belongs to, by {}", fk.column)
            } else if let Some(join) = &r.through {
                format!("many to many, through {join}")
            } else {
                let by = ins
                    .table(&r.target)
                    .ok()
                    .and_then(|target| target.foreign_keys.iter().find(|fk| fk.target == t.name))
                    .map(|fk| format!(", by {}.{}", r.target, fk.column))
                    .unwrap_or_default();
                format!("has{by}")
            };
            format!("{} -> {} ({kind})", r.name, r.target)
        })
        .collect()
}

fn schema(out: &mut Out, ins: &Inspector, t: &TableDesc) {
    out.line(format!(
        "table {} (schema version {}, catalog format {}, delete = {})",
        t.name,
        t.version,
        t.format,
        delete_mode(t.delete)
    ));
    out.line("  columns:");
    let width = t.columns.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let type_width = t
        .columns
        .iter()
        .map(|c| c.type_name.len())
        .max()
        .unwrap_or(0);
    for c in &t.columns {
        let mut notes = Vec::new();
        if c.nullable == Some(true) {
            notes.push("nullable".to_string());
        }
        if c.has_default == Some(true) && c.nullable != Some(true) {
            notes.push("has default".to_string());
        }
        if let Some(fk) = t.foreign_key_of(&c.name) {
            notes.push(format!("-> {}", fk.target));
        }
        if c.column_type.is_none() {
            notes.push("not decodable here".to_string());
        }
        let line = format!(
            "    {:width$}  {:type_width$}  {}",
            c.name,
            c.type_name,
            notes.join(", ")
        );
        out.line(line.trim_end());
    }
    if !t.indexes.is_empty() {
        out.line("  indexes:");
        for i in &t.indexes {
            let mut flags = String::new();
            if i.unique {
                flags.push_str(" unique");
            }
            if i.nulls_not_distinct {
                flags.push_str(" nulls_not_distinct");
            }
            out.line(format!("    {}{flags} ({})", i.name, i.columns.join(", ")));
        }
    }
    if !t.foreign_keys.is_empty() {
        out.line("  foreign keys:");
        for fk in &t.foreign_keys {
            out.line(format!(
                "    {} -> {} ({}): on_delete = {}, on_soft_delete = {}",
                fk.column,
                fk.target,
                fk.relation,
                on_delete(fk.on_delete),
                on_soft_delete(fk.on_soft_delete)
            ));
        }
    }
    let relations = relation_lines(ins, t);
    if !relations.is_empty() {
        out.line("  relations:");
        for r in relations {
            out.line(format!("    {r}"));
        }
    }
}

fn rows(out: &mut Out, args: RowsArgs) -> Result<u8, Failure> {
    let ins = Inspector::open(&args.file)?;
    let mut query = RowQuery::new(&args.table)
        .limit(args.limit)
        .deleted(deleted(args.deleted));
    for c in &args.conditions {
        query = query.filter(c.parse::<Condition>()?);
    }
    if let Some(index) = args.index {
        query = query.index(index);
    }
    if let Some(order) = &args.order {
        let (col, desc) = match order.rsplit_once(':') {
            Some((col, "desc")) => (col, true),
            Some((col, "asc")) => (col, false),
            Some((_, other)) => {
                return Err(Failure {
                    message: format!(
                        "malformed --order `{order}`: `{other}` is not `asc` or `desc`"
                    ),
                    status: 2,
                });
            }
            None => (order.as_str(), false),
        };
        query = query.order_by(col, desc);
    }
    if let Some(c) = args.cursor {
        query = query.after(c);
    }
    if args.explain {
        out.line(ins.explain(&query)?.to_string());
        return Ok(0);
    }
    let page = ins.rows(&query)?;
    let json = args.json || (!args.table_format && !std::io::stdout().is_terminal());
    if json {
        for row in &page.rows {
            out.line(row.to_json());
        }
    } else {
        let with_deleted = !matches!(deleted(args.deleted), Deleted::Exclude);
        table(out, &page.rows, with_deleted, ins.table(&args.table)?);
    }
    if let Some(next) = page.next {
        eprintln!("redorm: more rows: --cursor {next}");
    }
    Ok(0)
}

fn table(out: &mut Out, rows: &[Row], with_deleted: bool, desc: &TableDesc) {
    let mut header = vec!["id".to_string(), "created_at".to_string()];
    if with_deleted {
        header.push("deleted_at".to_string());
    }
    header.extend(desc.columns.iter().map(|c| c.name.clone()));
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.fields(with_deleted)
                .into_iter()
                .map(|(_, v)| v.replace('\n', "\\n"))
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let render = |cells: &[String]| {
        let line: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:w$}"))
            .collect();
        line.join("  ").trim_end().to_string()
    };
    out.line(render(&header));
    for row in &cells {
        out.line(render(row));
    }
}
