//! `eider schema`: the JSON Schema of a Drakefile, for editors (yaml-language-server).

use super::print_stdout;
use crate::cli::SchemaOptions;
use crate::failure::Failure;

pub fn run(options: &SchemaOptions) -> Result<(), Failure> {
    let version = options
        .spec_version
        .unwrap_or(drakefile::SpecVersion::LATEST);
    print_stdout(&drakefile::schema::json_schema_text(version))
}
