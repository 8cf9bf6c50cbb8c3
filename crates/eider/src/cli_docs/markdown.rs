//! The command-line reference, `docs/cli.md`, written from the clap definitions: every command
//! with its usage, arguments and options, and for each option its `EIDER_*` variable, default
//! and possible values. Written here rather than with clap-markdown, which leaves out the
//! environment variables that every option of eider has.

use std::fmt::Write as _;

use clap::{Arg, Command};

/// The reference of `root` (built, with its subcommands) as Markdown.
pub fn reference(root: &Command, regenerate: &str) -> String {
    let name = root.get_name();
    let mut text = format!("# `{name}` command-line reference\n\n");
    let _ = writeln!(
        text,
        "<!-- Generated from the clap definitions (crates/eider/src/cli.rs); do not edit.\n     \
         Regenerate with `{regenerate}`. -->\n"
    );
    if let Some(about) = root.get_long_about().or_else(|| root.get_about()) {
        let _ = writeln!(text, "{about}\n");
    }
    let _ = writeln!(text, "Usage: `{}`\n", usage(root));
    text.push_str("Commands:\n\n");
    for command in documented_subcommands(root) {
        let path = format!("{name} {}", command.get_name());
        let about = command.get_about().map(ToString::to_string);
        let _ = writeln!(
            text,
            "- [`{path}`](#{}): {}",
            path.replace(' ', "-"),
            about.as_deref().unwrap_or_default()
        );
    }
    text.push('\n');
    write_arguments(&mut text, root, true, "Options");
    for command in documented_subcommands(root) {
        write_command(&mut text, command, name);
    }
    text
}

fn write_command(text: &mut String, command: &Command, parent: &str) {
    let path = format!("{parent} {}", command.get_name());
    let _ = writeln!(text, "## `{path}`\n");
    if let Some(about) = command.get_long_about().or_else(|| command.get_about()) {
        let _ = writeln!(text, "{about}\n");
    }
    let _ = writeln!(text, "Usage: `{}`\n", usage(command));
    let aliases: Vec<String> = command
        .get_visible_aliases()
        .map(|alias| format!("`{parent} {alias}`"))
        .collect();
    if !aliases.is_empty() {
        let _ = writeln!(text, "Also: {}\n", aliases.join(", "));
    }
    write_arguments(text, command, false, "Options");
    for subcommand in documented_subcommands(command) {
        write_command(text, subcommand, &path);
    }
}

/// The positional arguments, then the options, of `command`; the global options only where
/// they are declared, and `--help` (which every command has) nowhere.
fn write_arguments(text: &mut String, command: &Command, is_root: bool, options_title: &str) {
    let documented: Vec<&Arg> = command
        .get_arguments()
        .filter(|argument| {
            !argument.is_hide_set()
                && argument.get_id() != "help"
                && (is_root || !argument.is_global_set())
        })
        .collect();
    let (positionals, options): (Vec<&Arg>, Vec<&Arg>) = documented
        .into_iter()
        .partition(|argument| argument.is_positional());
    for (title, arguments) in [("Arguments", positionals), (options_title, options)] {
        if arguments.is_empty() {
            continue;
        }
        let _ = writeln!(text, "{title}:\n");
        for argument in arguments {
            write_argument(text, argument);
        }
        text.push('\n');
    }
}

fn write_argument(text: &mut String, argument: &Arg) {
    let _ = write!(text, "- {}", names(argument));
    match argument.get_long_help().or_else(|| argument.get_help()) {
        Some(help) => {
            let help = help.to_string().replace('\n', "\n  ");
            let _ = writeln!(text, ": {help}");
        }
        None => text.push('\n'),
    }
    let short_aliases: Vec<String> = argument
        .get_visible_short_aliases()
        .unwrap_or_default()
        .into_iter()
        .map(|alias| format!("`-{alias}`"))
        .collect();
    let long_aliases = argument
        .get_visible_aliases()
        .unwrap_or_default()
        .into_iter()
        .map(|alias| format!("`--{alias}`"));
    let aliases: Vec<String> = short_aliases.into_iter().chain(long_aliases).collect();
    if !aliases.is_empty() {
        let _ = writeln!(text, "  - Also: {}", aliases.join(", "));
    }
    if argument.is_global_set() {
        text.push_str("  - Accepted by every command\n");
    }
    if let Some(variable) = argument.get_env() {
        let _ = writeln!(
            text,
            "  - Environment variable: `{}`",
            variable.to_string_lossy()
        );
    }
    if !argument.get_action().takes_values() {
        return;
    }
    let defaults: Vec<String> = argument
        .get_default_values()
        .iter()
        .map(|value| format!("`{}`", value.to_string_lossy()))
        .collect();
    if !defaults.is_empty() && !argument.is_hide_default_value_set() {
        let _ = writeln!(text, "  - Default: {}", defaults.join(", "));
    }
    let values: Vec<_> = argument
        .get_possible_values()
        .into_iter()
        .filter(|value| !value.is_hide_set())
        .collect();
    if !values.is_empty() && !argument.is_hide_possible_values_set() {
        text.push_str("  - Values:\n");
        for value in values {
            match value.get_help() {
                Some(help) => {
                    let _ = writeln!(text, "    - `{}`: {help}", value.get_name());
                }
                None => {
                    let _ = writeln!(text, "    - `{}`", value.get_name());
                }
            }
        }
    }
}

/// How an argument is written: `<NAME>...` for a positional, `-s`, `--long <VALUE>` for an
/// option.
fn names(argument: &Arg) -> String {
    let value = argument.get_value_names().map_or_else(
        || format!("<{}>", argument.get_id().as_str().to_uppercase()),
        |names| {
            names
                .iter()
                .map(|name| format!("<{name}>"))
                .collect::<Vec<_>>()
                .join(" ")
        },
    );
    if argument.is_positional() {
        let repeated = if argument.get_action().takes_values()
            && argument
                .get_num_args()
                .is_some_and(|range| range.max_values() > 1)
        {
            "..."
        } else {
            ""
        };
        return format!("`{value}{repeated}`");
    }
    let takes_value = argument.get_action().takes_values();
    let mut forms = Vec::new();
    if let Some(short) = argument.get_short() {
        forms.push(if takes_value && argument.get_long().is_none() {
            format!("`-{short} {value}`")
        } else {
            format!("`-{short}`")
        });
    }
    if let Some(long) = argument.get_long() {
        forms.push(if takes_value {
            format!("`--{long} {value}`")
        } else {
            format!("`--{long}`")
        });
    }
    forms.join(", ")
}

/// The usage line of `command`, without clap's `Usage: ` label.
fn usage(command: &Command) -> String {
    let rendered = command.clone().render_usage().to_string();
    rendered
        .strip_prefix("Usage: ")
        .unwrap_or(&rendered)
        .trim()
        .to_owned()
}

fn documented_subcommands(command: &Command) -> impl Iterator<Item = &Command> {
    command
        .get_subcommands()
        .filter(|subcommand| !subcommand.is_hide_set())
}
