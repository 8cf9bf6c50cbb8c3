//! The man pages under `docs/man/`: `eider.1` and one page per subcommand (`eider-run.1`, ...),
//! as `clap_mangen` renders them from the clap definitions.

use clap::Command;
use clap_mangen::Man;

/// Every page of `root` (built, with its subcommands) and of its subcommands, as
/// (file name, roff text).
pub fn pages(root: &Command) -> Vec<(String, String)> {
    let source = format!(
        "{} {}",
        root.get_name(),
        root.get_version().unwrap_or_default()
    );
    let mut pages = Vec::new();
    add_pages(root, &source, &mut pages);
    pages
}

fn add_pages(command: &Command, source: &str, pages: &mut Vec<(String, String)>) {
    // Subcommands have no version of their own: every page names the program's.
    let page = Man::new(command.clone()).source(source);
    let mut roff = Vec::new();
    page.render(&mut roff)
        .expect("a man page renders into memory");
    pages.push((
        page.get_filename(),
        String::from_utf8(roff).expect("a man page is UTF-8"),
    ));
    for subcommand in command
        .get_subcommands()
        .filter(|subcommand| !subcommand.is_hide_set())
    {
        add_pages(subcommand, source, pages);
    }
}
