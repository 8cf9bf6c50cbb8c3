//! Which fields each kind of object has in each DrakeSpec version.
//!
//! One table drives both the rejection of undocumented fields (with "added in" / "removed in"
//! hints) and the JSON Schema that `eider schema` prints, so the two cannot disagree.

use crate::version::SpecVersion::{self, Seed, V0_1_0, V0_2_0, V0_3_0, V0_4_0, V0_5_0, V0_6_0};

/// The kinds of objects a Drakefile is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// The top level.
    Document,
    /// A job (value of `jobs.<name>`).
    Job,
    /// A container of a job.
    Container,
    /// `resources` of a container.
    Resources,
    /// `resources.cpu`.
    Cpu,
    /// `resources.memory`.
    Memory,
    /// A pipeline (value of `pipelines.<name>`).
    Pipeline,
    /// An entry of a pipeline's `jobs`.
    PipelineJob,
    /// An entry of a pipeline's `triggers` (v0.1.0 and later).
    Trigger,
}

impl ObjectKind {
    /// Every kind, outermost first.
    pub const ALL: [Self; 9] = [
        Self::Document,
        Self::Job,
        Self::Container,
        Self::Resources,
        Self::Cpu,
        Self::Memory,
        Self::Pipeline,
        Self::PipelineJob,
        Self::Trigger,
    ];

    /// How the object is called in messages.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Document => "the top level of a Drakefile",
            Self::Job => "a job",
            Self::Container => "a container",
            Self::Resources => "`resources`",
            Self::Cpu => "`resources.cpu`",
            Self::Memory => "`resources.memory`",
            Self::Pipeline => "a pipeline",
            Self::PipelineJob => "a pipeline's job entry",
            Self::Trigger => "a trigger",
        }
    }
}

impl ObjectKind {
    /// How one particular object of this kind is called in messages ("the job").
    #[must_use]
    pub fn describe_definite(self) -> &'static str {
        match self {
            Self::Document => "the top level",
            Self::Job => "the job",
            Self::Container => "the container",
            Self::Resources => "`resources`",
            Self::Cpu => "`resources.cpu`",
            Self::Memory => "`resources.memory`",
            Self::Pipeline => "the pipeline",
            Self::PipelineJob => "the pipeline's job entry",
            Self::Trigger => "the trigger",
        }
    }
}

/// The type of a field's value, as far as the JSON Schema needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// A string.
    String,
    /// The constant spec URI.
    SpecUri,
    /// A version string `vX.Y.Z`.
    Version,
    /// `true` or `false`.
    Boolean,
    /// An integer with a minimum.
    Integer {
        /// The smallest accepted value.
        minimum: i64,
    },
    /// One of a fixed set of strings.
    Enumeration(&'static [&'static str]),
    /// A list of strings.
    StringList,
    /// A command: one string in the seed draft, a list of strings afterwards.
    Command,
    /// Environment variables: a list of `KEY=VALUE` strings (and a mapping in v0.6.0).
    Environment,
    /// One object of the given kind.
    Object(ObjectKind),
    /// A list of objects of the given kind.
    ObjectList(ObjectKind),
    /// A mapping from names to objects of the given kind.
    NamedObjects(ObjectKind),
    /// Anything at all (snippets, trigger configuration, seed-draft triggers).
    Any,
    /// A list of anything (seed-draft triggers, whose content the draft never defined).
    AnyList,
}

impl FieldType {
    /// The kind of object this field holds, one level down, if it holds objects.
    #[must_use]
    pub fn held_kind(self) -> Option<ObjectKind> {
        match self {
            Self::Object(kind) | Self::ObjectList(kind) | Self::NamedObjects(kind) => Some(kind),
            _ => None,
        }
    }

    /// How many path segments lie between the object with this field and the object it holds:
    /// one for `resources`, two for `containers[0]` or `jobs.build`.
    #[must_use]
    pub fn depth(self) -> usize {
        match self {
            Self::Object(_) => 1,
            _ => 2,
        }
    }
}

/// One field of one kind of object.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The key, as written.
    pub name: &'static str,
    /// The first version that has it.
    pub since: SpecVersion,
    /// The last version that has it, when a later version dropped it.
    pub until: Option<SpecVersion>,
    /// Whether it must be present.
    pub required: bool,
    /// Its type.
    pub field_type: FieldType,
    /// One sentence for editors.
    pub description: &'static str,
}

impl Field {
    /// Whether `version` defines this field.
    #[must_use]
    pub fn exists_in(&self, version: SpecVersion) -> bool {
        version >= self.since && self.until.is_none_or(|until| version <= until)
    }
}

const fn field(
    name: &'static str,
    since: SpecVersion,
    until: Option<SpecVersion>,
    required: bool,
    field_type: FieldType,
    description: &'static str,
) -> Field {
    Field {
        name,
        since,
        until,
        required,
        field_type,
        description,
    }
}

/// Source mount modes (v0.1.0+).
pub const SOURCE_MOUNT_MODES: &[&str] = &["RO", "COPY", "RW"];
/// Image pull policies (v0.4.0+).
pub const PULL_POLICIES: &[&str] = &["IfNotPresent", "Always"];
/// Operating system families (v0.5.0+).
pub const OS_FAMILIES: &[&str] = &["linux", "windows"];

const DOCUMENT: &[Field] = &[
    field(
        "uri",
        Seed,
        Some(Seed),
        true,
        FieldType::SpecUri,
        "Identifies the DrakeSpec: always github.com/lovethedrake/drakespec.",
    ),
    field(
        "version",
        Seed,
        Some(Seed),
        true,
        FieldType::Version,
        "The seed draft's version, v0.0.0.",
    ),
    field(
        "specUri",
        V0_1_0,
        None,
        true,
        FieldType::SpecUri,
        "Identifies the DrakeSpec: always github.com/lovethedrake/drakespec.",
    ),
    field(
        "specVersion",
        V0_1_0,
        None,
        true,
        FieldType::Version,
        "The DrakeSpec version this file follows, e.g. v0.6.0.",
    ),
    field(
        "snippets",
        V0_1_0,
        None,
        false,
        FieldType::Any,
        "Free-form values to hold YAML anchors; they have no meaning of their own.",
    ),
    field(
        "jobs",
        Seed,
        None,
        false,
        FieldType::NamedObjects(ObjectKind::Job),
        "Jobs by name.",
    ),
    field(
        "pipelines",
        Seed,
        None,
        false,
        FieldType::NamedObjects(ObjectKind::Pipeline),
        "Pipelines by name.",
    ),
];

const JOB: &[Field] = &[
    field(
        "containers",
        Seed,
        Some(V0_1_0),
        false,
        FieldType::ObjectList(ObjectKind::Container),
        "The job's containers in launch order; the last one is the primary.",
    ),
    field(
        "primaryContainer",
        V0_2_0,
        None,
        true,
        FieldType::Object(ObjectKind::Container),
        "The container whose main process decides the job's result.",
    ),
    field(
        "sidecarContainers",
        V0_2_0,
        None,
        false,
        FieldType::ObjectList(ObjectKind::Container),
        "Supporting containers, launched in order before the primary.",
    ),
    field(
        "sourceMountMode",
        V0_1_0,
        None,
        false,
        FieldType::Enumeration(SOURCE_MOUNT_MODES),
        "How source is mounted: RO (default), COPY or RW.",
    ),
    field(
        "osFamily",
        V0_5_0,
        None,
        false,
        FieldType::Enumeration(OS_FAMILIES),
        "Operating system family of all containers (default linux).",
    ),
    field(
        "cpuArch",
        V0_6_0,
        None,
        false,
        FieldType::String,
        "CPU architecture of all containers (default amd64).",
    ),
];

const CONTAINER: &[Field] = &[
    field(
        "name",
        Seed,
        None,
        true,
        FieldType::String,
        "Unique within the job; prefixes the container's output.",
    ),
    field(
        "image",
        Seed,
        None,
        true,
        FieldType::String,
        "The OCI image the container runs.",
    ),
    field(
        "imagePullPolicy",
        V0_4_0,
        None,
        false,
        FieldType::Enumeration(PULL_POLICIES),
        "IfNotPresent (default) or Always.",
    ),
    field(
        "environment",
        Seed,
        None,
        false,
        FieldType::Environment,
        "Environment variables as KEY=VALUE strings, applied in order.",
    ),
    field(
        "workingDirectory",
        Seed,
        None,
        false,
        FieldType::String,
        "Working directory of the main process.",
    ),
    field(
        "command",
        Seed,
        None,
        false,
        FieldType::Command,
        "Seed draft: the command line; later: the ENTRYPOINT as a list.",
    ),
    field(
        "args",
        V0_1_0,
        None,
        false,
        FieldType::StringList,
        "The CMD, as a list of strings.",
    ),
    field(
        "tty",
        Seed,
        None,
        false,
        FieldType::Boolean,
        "Allocate a pseudo-TTY.",
    ),
    field(
        "privileged",
        Seed,
        None,
        false,
        FieldType::Boolean,
        "Run privileged (only where the executor's policy allows it).",
    ),
    field(
        "mountDockerSocket",
        Seed,
        None,
        false,
        FieldType::Boolean,
        "Mount the host's Docker socket (only where allowed).",
    ),
    field(
        "sourceMountPath",
        Seed,
        None,
        false,
        FieldType::String,
        "Where the source is mounted; unset or empty: no source.",
    ),
    field(
        "sharedStorageMountPath",
        V0_1_0,
        None,
        false,
        FieldType::String,
        "Where the run's shared storage is mounted.",
    ),
    field(
        "resources",
        V0_3_0,
        None,
        false,
        FieldType::Object(ObjectKind::Resources),
        "CPU and memory requests and limits.",
    ),
];

const RESOURCES: &[Field] = &[
    field(
        "cpu",
        V0_3_0,
        None,
        false,
        FieldType::Object(ObjectKind::Cpu),
        "CPU in millicores.",
    ),
    field(
        "memory",
        V0_3_0,
        None,
        false,
        FieldType::Object(ObjectKind::Memory),
        "Memory in megabytes (10^6 bytes).",
    ),
];

const CPU: &[Field] = &[
    field(
        "requestedMillicores",
        V0_3_0,
        None,
        false,
        FieldType::Integer { minimum: 1 },
        "Relative CPU weight (default 100).",
    ),
    field(
        "maxMillicores",
        V0_3_0,
        None,
        false,
        FieldType::Integer { minimum: 1 },
        "CPU limit (default 200).",
    ),
];

const MEMORY: &[Field] = &[
    field(
        "requestedMegabytes",
        V0_3_0,
        None,
        false,
        FieldType::Integer { minimum: 4 },
        "Memory reservation (default 128).",
    ),
    field(
        "maxMegabytes",
        V0_3_0,
        None,
        false,
        FieldType::Integer { minimum: 4 },
        "Memory limit (default 256).",
    ),
];

const PIPELINE: &[Field] = &[
    field(
        "triggers",
        Seed,
        Some(Seed),
        false,
        FieldType::AnyList,
        "Triggers; the seed draft never defined their content.",
    ),
    field(
        "triggers",
        V0_1_0,
        None,
        false,
        FieldType::ObjectList(ObjectKind::Trigger),
        "Triggers, evaluated in order; the first match selects the pipeline.",
    ),
    field(
        "jobs",
        Seed,
        None,
        false,
        FieldType::ObjectList(ObjectKind::PipelineJob),
        "The pipeline's jobs; dependencies name earlier entries.",
    ),
];

const PIPELINE_JOB: &[Field] = &[
    field(
        "name",
        Seed,
        None,
        true,
        FieldType::String,
        "A job defined under `jobs`.",
    ),
    field(
        "dependencies",
        Seed,
        None,
        false,
        FieldType::StringList,
        "Jobs listed earlier in this pipeline that must succeed first.",
    ),
];

const TRIGGER: &[Field] = &[
    field(
        "specUri",
        V0_1_0,
        None,
        true,
        FieldType::String,
        "The trigger spec's identifier, e.g. github.com/lovethedrake/drakespec-github.",
    ),
    field(
        "specVersion",
        V0_1_0,
        None,
        true,
        FieldType::String,
        "The trigger spec's version, e.g. v1.0.0.",
    ),
    field(
        "config",
        V0_1_0,
        None,
        false,
        FieldType::Any,
        "Configuration read by the trigger spec.",
    ),
];

/// Every field of `kind`, in every version.
#[must_use]
pub fn all_fields(kind: ObjectKind) -> &'static [Field] {
    match kind {
        ObjectKind::Document => DOCUMENT,
        ObjectKind::Job => JOB,
        ObjectKind::Container => CONTAINER,
        ObjectKind::Resources => RESOURCES,
        ObjectKind::Cpu => CPU,
        ObjectKind::Memory => MEMORY,
        ObjectKind::Pipeline => PIPELINE,
        ObjectKind::PipelineJob => PIPELINE_JOB,
        ObjectKind::Trigger => TRIGGER,
    }
}

/// The fields of `kind` that `version` defines.
pub fn fields_in(kind: ObjectKind, version: SpecVersion) -> impl Iterator<Item = &'static Field> {
    all_fields(kind)
        .iter()
        .filter(move |field| field.exists_in(version))
}

/// The field named `name` of `kind` in `version`.
#[must_use]
pub fn find(kind: ObjectKind, version: SpecVersion, name: &str) -> Option<&'static Field> {
    fields_in(kind, version).find(|field| field.name == name)
}

/// The fields through which objects of `kind` are held in `version`, with the kind that has each
/// (a container is held by a job's `primaryContainer` and `sidecarContainers`).
pub fn holders(
    kind: ObjectKind,
    version: SpecVersion,
) -> impl Iterator<Item = (ObjectKind, &'static Field)> {
    ObjectKind::ALL.into_iter().flat_map(move |outer| {
        fields_in(outer, version)
            .filter(move |field| field.field_type.held_kind() == Some(kind))
            .map(move |field| (outer, field))
    })
}

/// The kinds of objects `kind` holds in `version`, each with the first field that holds it.
pub fn held(
    kind: ObjectKind,
    version: SpecVersion,
) -> impl Iterator<Item = (ObjectKind, &'static Field)> {
    let mut seen = Vec::new();
    fields_in(kind, version).filter_map(move |field| {
        let inner = field.field_type.held_kind()?;
        if seen.contains(&inner) {
            return None;
        }
        seen.push(inner);
        Some((inner, field))
    })
}

/// Why `name` is not a field of `kind` in `version`, when another version has it.
#[must_use]
pub fn other_version_note(kind: ObjectKind, version: SpecVersion, name: &str) -> Option<String> {
    let field = all_fields(kind).iter().find(|field| field.name == name)?;
    if version < field.since {
        Some(format!("`{name}` was added in DrakeSpec {}", field.since))
    } else {
        field.until.map(|until| {
            let next = SpecVersion::ALL
                .into_iter()
                .find(|candidate| *candidate > until)
                .unwrap_or(SpecVersion::LATEST);
            format!("`{name}` was removed in DrakeSpec {next}")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_notes() {
        assert_eq!(
            other_version_note(ObjectKind::Container, V0_3_0, "imagePullPolicy").as_deref(),
            Some("`imagePullPolicy` was added in DrakeSpec v0.4.0")
        );
        assert_eq!(
            other_version_note(ObjectKind::Job, V0_2_0, "containers").as_deref(),
            Some("`containers` was removed in DrakeSpec v0.2.0")
        );
        assert_eq!(other_version_note(ObjectKind::Job, V0_2_0, "timeout"), None);
    }

    #[test]
    fn objects_know_what_holds_them_and_what_they_hold() {
        let holders_of = |kind, version| {
            holders(kind, version)
                .map(|(kind, field)| (kind, field.name))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            holders_of(ObjectKind::Container, V0_6_0),
            [
                (ObjectKind::Job, "primaryContainer"),
                (ObjectKind::Job, "sidecarContainers")
            ]
        );
        assert_eq!(
            holders_of(ObjectKind::Container, V0_1_0),
            [(ObjectKind::Job, "containers")]
        );
        assert_eq!(
            holders_of(ObjectKind::Job, Seed),
            [(ObjectKind::Document, "jobs")]
        );
        assert!(holders_of(ObjectKind::Resources, V0_2_0).is_empty());
        assert!(holders_of(ObjectKind::Document, V0_6_0).is_empty());
        let held_by = |kind, version| {
            held(kind, version)
                .map(|(kind, field)| (kind, field.name))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            held_by(ObjectKind::Job, V0_6_0),
            [(ObjectKind::Container, "primaryContainer")]
        );
        assert_eq!(
            held_by(ObjectKind::Pipeline, V0_1_0),
            [
                (ObjectKind::Trigger, "triggers"),
                (ObjectKind::PipelineJob, "jobs")
            ]
        );
    }

    #[test]
    fn each_version_has_its_own_closed_set() {
        assert!(find(ObjectKind::Document, Seed, "uri").is_some());
        assert!(find(ObjectKind::Document, Seed, "specUri").is_none());
        assert!(find(ObjectKind::Document, Seed, "snippets").is_none());
        assert!(find(ObjectKind::Container, Seed, "args").is_none());
        assert!(find(ObjectKind::Job, V0_1_0, "primaryContainer").is_none());
        assert!(find(ObjectKind::Job, V0_6_0, "cpuArch").is_some());
        for version in SpecVersion::ALL {
            assert!(find(ObjectKind::Job, version, "timeout").is_none());
        }
    }
}
