# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_eider_global_optspecs
    string join \n f/file= color= h/help V/version
end

function __fish_eider_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_eider_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_eider_using_subcommand
    set -l cmd (__fish_eider_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c eider -n "__fish_eider_needs_command" -s f -l file -d 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]' -r
complete -c eider -n "__fish_eider_needs_command" -l color -d 'When to color output (NO_COLOR is honored by `auto`)' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c eider -n "__fish_eider_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c eider -n "__fish_eider_needs_command" -s V -l version -d 'Print version'
complete -c eider -n "__fish_eider_needs_command" -f -a "validate" -d 'Check the Drakefile against its DrakeSpec version and report every problem'
complete -c eider -n "__fish_eider_needs_command" -f -a "list" -d 'List the Drakefile\'s jobs (or pipelines), sorted by name'
complete -c eider -n "__fish_eider_needs_command" -f -a "ls" -d 'List the Drakefile\'s jobs (or pipelines), sorted by name'
complete -c eider -n "__fish_eider_needs_command" -f -a "init" -d 'Write a commented starter Drakefile (latest DrakeSpec version)'
complete -c eider -n "__fish_eider_needs_command" -f -a "schema" -d 'Print the JSON Schema of a Drakefile, for editors'
complete -c eider -n "__fish_eider_needs_command" -f -a "upgrade" -d 'Rewrite the Drakefile in place for a newer DrakeSpec version, keeping its comments, anchors and layout; refuse (and write nothing) what has no faithful equivalent'
complete -c eider -n "__fish_eider_needs_command" -f -a "run" -d 'Run jobs (in order, each only if the previous one succeeded) or a pipeline (as a DAG) on the Docker Engine; or the job a package holds, from the package, without a Drakefile'
complete -c eider -n "__fish_eider_needs_command" -f -a "graph" -d 'Print a pipeline\'s DAG as Graphviz DOT, Mermaid or SVG'
complete -c eider -n "__fish_eider_needs_command" -f -a "clean" -d 'Remove containers and volumes left behind by an eider that crashed'
complete -c eider -n "__fish_eider_needs_command" -f -a "lock" -d 'Resolve every image of the Drakefile to a digest and write Drakefile.lock, for `run --locked` and `package --locked`'
complete -c eider -n "__fish_eider_needs_command" -f -a "package" -d 'Package a job as a reproducible OCI image: its base image, its dependencies and its source, with its command; written to an OCI layout, a Docker archive, a registry or the local engine'
complete -c eider -n "__fish_eider_needs_command" -f -a "verify" -d 'Check a package: every blob\'s digest and size, the manifest and config against each other, and its labels against the Drakefile'
complete -c eider -n "__fish_eider_needs_command" -f -a "manifests" -d 'Print the Kubernetes objects that would run jobs or a pipeline on a cluster, as multi-document YAML, without contacting any cluster'
complete -c eider -n "__fish_eider_needs_command" -f -a "completions" -d 'Print the completion script of a shell (bash, zsh, fish, powershell or elvish), for the shell to load'
complete -c eider -n "__fish_eider_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c eider -n "__fish_eider_using_subcommand validate" -s f -l file -d 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]' -r
complete -c eider -n "__fish_eider_using_subcommand validate" -l color -d 'When to color output (NO_COLOR is honored by `auto`)' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c eider -n "__fish_eider_using_subcommand validate" -l json -d 'Print the result and every diagnostic as JSON on stdout'
complete -c eider -n "__fish_eider_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c eider -n "__fish_eider_using_subcommand list" -l event -d 'With -p: only the pipelines whose triggers match this event, in Drakefile order' -r -f -a "push\t'A push of a branch or a tag'
pull-request\t'A pull request, matched on its target branch'"
complete -c eider -n "__fish_eider_using_subcommand list" -l branch -d 'The branch of the event (a push, or a pull request\'s target) [default: the current git branch]' -r
complete -c eider -n "__fish_eider_using_subcommand list" -l tag -d 'The tag of a push event [default: the tag at HEAD when no branch is checked out]' -r
complete -c eider -n "__fish_eider_using_subcommand list" -s f -l file -d 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]' -r
complete -c eider -n "__fish_eider_using_subcommand list" -l color -d 'When to color output (NO_COLOR is honored by `auto`)' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c eider -n "__fish_eider_using_subcommand list" -s p -l pipelines -l pipeline -d 'List pipelines instead of jobs'
complete -c eider -n "__fish_eider_using_subcommand list" -l json -d 'Print the whole normalized model as JSON'
complete -c eider -n "__fish_eider_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c eider -n "__fish_eider_using_subcommand ls" -l event -d 'With -p: only the pipelines whose triggers match this event, in Drakefile order' -r -f -a "push\t'A push of a branch or a tag'
pull-request\t'A pull request, matched on its target branch'"
complete -c eider -n "__fish_eider_using_subcommand ls" -l branch -d 'The branch of the event (a push, or a pull request\'s target) [default: the current git branch]' -r
complete -c eider -n "__fish_eider_using_subcommand ls" -l tag -d 'The tag of a push event [default: the tag at HEAD when no branch is checked out]' -r
complete -c eider -n "__fish_eider_using_subcommand ls" -s f -l file -d 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]' -r
complete -c eider -n "__fish_eider_using_subcommand ls" -l color -d 'When to color output (NO_COLOR is honored by `auto`)' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c eider -n "__fish_eider_using_subcommand ls" -s p -l pipelines -l pipeline -d 'List pipelines instead of jobs'
complete -c eider -n "__fish_eider_using_subcommand ls" -l json -d 'Print the whole normalized model as JSON'
complete -c eider -n "__fish_eider_using_subcommand ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c eider -n "__fish_eider_using_subcommand init" -s f -l file -d 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]' -r
complete -c eider -n "__fish_eider_using_subcommand init" -l color -d 'When to color output (NO_COLOR is honored by `auto`)' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c eider -n "__fish_eider_using_subcommand init" -l force -d 'Replace an existing Drakefile'
complete -c eider -n "__fish_eider_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c eider -n "__fish_eider_using_subcommand schema" -l version -l spec-version -d 'The DrakeSpec version [default: the latest]' -r
complete -c eider -n "__fish_eider_using_subcommand schema" -s f -l file -d 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]' -r
complete -c eider -n "__fish_eider_using_subcommand schema" -l color -d 'When to color output (NO_COLOR is honored by `auto`)' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c eider -n "__fish_eider_using_subcommand schema" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c eider -n "__fish_eider_using_subcommand upgrade" -l to -d 'The DrakeSpec version to upgrade to [default: the latest]' -r
complete -c eider -n "__fish_eider_using_subcommand upgrade" -s f -l file -d 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]' -r
complete -c eider -n "__fish_eider_using_subcommand upgrade" -l color -d 'When to color output (NO_COLOR is honored by `auto`)' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c eider -n "__fish_eider_using_subcommand upgrade" -l dry-run -d 'Print the changes as a unified diff on stdout and write nothing'
complete -c eider -n "__fish_eider_using_subcommand upgrade" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c eider -n "__fish_eider_using_subcommand run" -s p -l pipeline -d 'Run this pipeline: its jobs as a DAG, each once its dependencies succeeded' -r
complete -c eider -n "__fish_eider_using_subcommand run" -l event -d 'Run every pipeline whose triggers match this event (see --branch, --tag)' -r -f -a "push\t'A push of a branch or a tag'
pull-request\t'A pull request, matched on its target branch'"
complete -c eider -n "__fish_eider_using_subcommand run" -l branch -d 'The branch of the event (a push, or a pull request\'s target) [default: the current git branch]' -r
complete -c eider -n "__fish_eider_using_subcommand run" -l tag -d 'The tag of a push event [default: the tag at HEAD when no branch is checked out]' -r
complete -c eider -n "__fish_eider_using_subcommand run" -s c -s j -l concurrency -l jobs -d 'How many jobs of a pipeline run at once [default: the number of CPU cores]' -r
complete -c eider -n "__fish_eider_using_subcommand run" -l report -d 'Write a report when the run ends: junit=FILE or json=FILE (repeatable)' -r
complete -c eider -n "__fish_eider_using_subcommand run" -l timeout -d 'How long a job may run before it is killed and fails [default: 1h, or the config file\'s]' -r
complete -c eider -n "__fish_eider_using_subcommand run" -l grace-period -d 'How long containers get between SIGTERM and SIGKILL when a run is interrupted [default: 10s]' -r
complete -c eider -n "__fish_eider_using_subcommand run" -l engine-timeout -d 'How long the container engine may go without answering (frozen, restarting) before the job it serves ends as an infrastructure failure [default: 60s]' -r
complete -c eider -n "__fish_eider_using_subcommand run" -l network -d 'Attach each job\'s first container to this network [default: the engine\'s default]' -r
complete -c eider -n "__fish_eider_using_subcommand run" -l backend -d 'Where jobs run: the local container engine, or a Kubernetes cluster [default: docker, or the config file\'s]' -r -f -a "docker\t'The Docker Engine (or an engine with its API, such as Podman\'s)'
kubernetes\t'A Kubernetes cluster (1.29 or later): one Pod per job'"
complete -c eider -n "__fish_eider_using_subcommand run" -l context -d 'Kubernetes: the kubeconfig context of the cluster [default: the current context]' -r
complete -c eider -n "__fish_eider_using_subcommand run" -l namespace -d 'Kubernetes: the namespace of everything eider creates [default: the context\'s]' -r
complete -c eider -n "__fish_eider_using_subcommand run" -l storage-class -d 'Kubernetes: the storage class of the run\'s shared-storage claim [default: the config file\'s, else the cluster\'s]' -r
complete -c eider -n "__fish_eider_using_subcommand run" -l shared-storage-size -d 'Kubernetes: the size of the run\'s shared-storage claim [default: the config file\'s, else 1Gi]' -r
complete -c eider -n "__fish_eider_using_subcommand run" -l shared-storage-access -d 'Kubernetes: how the run\'s claims are attached: by every node (`ReadWriteMany`), or by one (`ReadWriteOnce`: the run\'s Pods that mount one then run on one node) [default: the config file\'s, else `ReadWriteMany`]' -r -f -a "ReadWriteMany\t'Every node may attach it: the run\'s Pods go anywhere'
ReadWriteOnce\t'One node at a time: the run\'s Pods that mount it share one node'"
complete -c eider -n "__fish_eider_using_subcommand run" -l registry -d 'Kubernetes: the repository the source image is pushed to, which the cluster pulls from (needed when a job mounts the source) [default: the config file\'s]' -r
complete -c eider -n "__fish_eider_using_subcommand run" -l helper-image -d 'Kubernetes: the image of eider\'s helper containers, which must have `sh`, `cp` and `tar`: the source image is built on it, shared storage is copied out with it [default: docker.io/library/busybox:1.37, or the config file\'s]' -r
complete -c eider -n "__fish_eider_using_subcommand run" -l image-pull-secret -d 'Kubernetes: a Secret of the namespace the nodes pull images with (repeatable) [default: the config file\'s]' -r
complete -c eider -n "__fish_eider_using_subcommand run" -s s -l secrets -d 'Secrets file: a flat YAML map, given to every container and masked in all output [default: Drakesecrets.yaml beside the Drakefile, when present]' -r
complete -c eider -n "__fish_eider_using_subcommand run" -s e -l env -d 'Set a variable in every container: KEY=VALUE, or KEY to take it from eider\'s environment (the Drakefile\'s `environment` wins). Values are taken whole, newlines included' -r
complete -c eider -n "__fish_eider_using_subcommand run" -l env-file -d 'Read variables from a file of KEY=VALUE lines (Docker\'s format)' -r
complete -c eider -n "__fish_eider_using_subcommand run" -l registry-auth -d 'Registry credentials for HOST, or without HOST for the registry the command writes to (package) or reads the package from (verify); repeatable, one per line in the variable (else the Docker config: ~/.docker/config.json and its credential helpers, per host)' -r
complete -c eider -n "__fish_eider_using_subcommand run" -l insecure-registry -d 'Talk plain HTTP to this registry (repeatable; loopback registries always may)' -r
complete -c eider -n "__fish_eider_using_subcommand run" -l source-mode -d 'Seed-draft files only: `copy` gives each run a writable copy of the source, `rw` binds the live tree' -r -f -a "copy\t'One writable copy per run; the live tree is never modified'
rw\t'The live tree, writable'"
complete -c eider -n "__fish_eider_using_subcommand run" -l log-limit -d 'Print at most SIZE of each job\'s output (e.g. 4MiB, 500k; 0 or none: no limit), then one notice; the job runs on [default: none, or the config file\'s]' -r
complete -c eider -n "__fish_eider_using_subcommand run" -l keep-shared -d 'Copy the run\'s shared storage into DIR before it is removed' -r
complete -c eider -n "__fish_eider_using_subcommand run" -l config -d 'The eider config file [default: eider/config.toml in the user\'s config directory]' -r
complete -c eider -n "__fish_eider_using_subcommand run" -s f -l file -d 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]' -r
complete -c eider -n "__fish_eider_using_subcommand run" -l color -d 'When to color output (NO_COLOR is honored by `auto`)' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c eider -n "__fish_eider_using_subcommand run" -l keep-going -d 'After a failure, still run every job whose dependencies succeeded (default: cancel every pending job, as the DrakeSpec says)'
complete -c eider -n "__fish_eider_using_subcommand run" -l dry-run -d 'Print the execution plan (stages of jobs that may run together) and run nothing'
complete -c eider -n "__fish_eider_using_subcommand run" -l locked -d 'Run every image at the digest Drakefile.lock gives it (see `eider lock`); an image the lock does not cover is an error'
complete -c eider -n "__fish_eider_using_subcommand run" -l packaged -d 'Package each job first (as `eider package` does) and run it from its image, without mounting the source tree into its primary container'
complete -c eider -n "__fish_eider_using_subcommand run" -l allow-privileged -d 'Honor `privileged: true`'
complete -c eider -n "__fish_eider_using_subcommand run" -l allow-docker-socket -d 'Honor `mountDockerSocket: true`'
complete -c eider -n "__fish_eider_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c eider -n "__fish_eider_using_subcommand graph" -l format -d 'The output format' -r -f -a "dot\t'Graphviz DOT'
mermaid\t'A Mermaid flowchart'
svg\t'An SVG picture, drawn without Graphviz'"
complete -c eider -n "__fish_eider_using_subcommand graph" -s f -l file -d 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]' -r
complete -c eider -n "__fish_eider_using_subcommand graph" -l color -d 'When to color output (NO_COLOR is honored by `auto`)' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c eider -n "__fish_eider_using_subcommand graph" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c eider -n "__fish_eider_using_subcommand clean" -l backend -d 'Where jobs run: the local container engine, or a Kubernetes cluster [default: docker, or the config file\'s]' -r -f -a "docker\t'The Docker Engine (or an engine with its API, such as Podman\'s)'
kubernetes\t'A Kubernetes cluster (1.29 or later): one Pod per job'"
complete -c eider -n "__fish_eider_using_subcommand clean" -l context -d 'Kubernetes: the kubeconfig context of the cluster [default: the current context]' -r
complete -c eider -n "__fish_eider_using_subcommand clean" -l namespace -d 'Kubernetes: the namespace of everything eider creates [default: the context\'s]' -r
complete -c eider -n "__fish_eider_using_subcommand clean" -l config -d 'The eider config file [default: eider/config.toml in the user\'s config directory]' -r
complete -c eider -n "__fish_eider_using_subcommand clean" -s f -l file -d 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]' -r
complete -c eider -n "__fish_eider_using_subcommand clean" -l color -d 'When to color output (NO_COLOR is honored by `auto`)' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c eider -n "__fish_eider_using_subcommand clean" -l all -d 'Also remove what running eider processes created'
complete -c eider -n "__fish_eider_using_subcommand clean" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c eider -n "__fish_eider_using_subcommand lock" -l base-from -d 'Where images are resolved for a name that is not a registry\'s: the local engine, or the registry its name points at' -r -f -a "auto\t'The local engine when it has the image, else the registry'
daemon\t'The local engine only'
registry\t'The registry only'"
complete -c eider -n "__fish_eider_using_subcommand lock" -l registry-auth -d 'Registry credentials for HOST, or without HOST for the registry the command writes to (package) or reads the package from (verify); repeatable, one per line in the variable (else the Docker config: ~/.docker/config.json and its credential helpers, per host)' -r
complete -c eider -n "__fish_eider_using_subcommand lock" -l insecure-registry -d 'Talk plain HTTP to this registry (repeatable; loopback registries always may)' -r
complete -c eider -n "__fish_eider_using_subcommand lock" -s f -l file -d 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]' -r
complete -c eider -n "__fish_eider_using_subcommand lock" -l color -d 'When to color output (NO_COLOR is honored by `auto`)' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c eider -n "__fish_eider_using_subcommand lock" -l check -d 'Check that Drakefile.lock covers every image and is up to date, without writing it (exit 1 when it is not)'
complete -c eider -n "__fish_eider_using_subcommand lock" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c eider -n "__fish_eider_using_subcommand package" -s o -l output -d 'Where the image goes (repeatable): `oci:DIR[:TAG]`, `docker-archive:FILE`, `docker://REGISTRY/REPOSITORY:TAG` (or `REGISTRY/REPOSITORY:TAG`), `docker-daemon:NAME:TAG` [default: `oci:.eider/packages:JOB`]' -r
complete -c eider -n "__fish_eider_using_subcommand package" -l tag -d 'The package\'s version [default: `git describe --tags --always`, `-dirty` when the tree has changes]' -r
complete -c eider -n "__fish_eider_using_subcommand package" -l compression -d 'How the new layers are compressed (Docker 20.10 cannot pull zstd layers)' -r -f -a "gzip\t'gzip: every engine and registry takes it'
zstd\t'zstd: smaller and faster; needs a recent engine'"
complete -c eider -n "__fish_eider_using_subcommand package" -l path -d 'Where the source goes in the image when the job\'s container has no sourceMountPath [default: `path` in eider.toml, else /src]' -r
complete -c eider -n "__fish_eider_using_subcommand package" -l base-from -d 'Where the base image comes from, for a name that is not a registry\'s: the local engine, or the registry its name points at' -r -f -a "auto\t'The local engine when it has the image, else the registry'
daemon\t'The local engine only'
registry\t'The registry only'"
complete -c eider -n "__fish_eider_using_subcommand package" -l base -d 'Take the base image from here instead of the primary container\'s `image`: `oci:DIR[:TAG]`, `docker-daemon:NAME`, `docker://REGISTRY/REPOSITORY:TAG`' -r
complete -c eider -n "__fish_eider_using_subcommand package" -s s -l secrets -d 'Secrets file of the job\'s runs: none of its values may be in the package, and the file itself is never packaged (Drakesecrets.yaml beside the Drakefile is always checked too)' -r
complete -c eider -n "__fish_eider_using_subcommand package" -l registry-auth -d 'Registry credentials for HOST, or without HOST for the registry the command writes to (package) or reads the package from (verify); repeatable, one per line in the variable (else the Docker config: ~/.docker/config.json and its credential helpers, per host)' -r
complete -c eider -n "__fish_eider_using_subcommand package" -l insecure-registry -d 'Talk plain HTTP to this registry (repeatable; loopback registries always may)' -r
complete -c eider -n "__fish_eider_using_subcommand package" -s f -l file -d 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]' -r
complete -c eider -n "__fish_eider_using_subcommand package" -l color -d 'When to color output (NO_COLOR is honored by `auto`)' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c eider -n "__fish_eider_using_subcommand package" -l docker-media-types -d 'Write the manifest with Docker v2 media types (for engines that predate OCI images)'
complete -c eider -n "__fish_eider_using_subcommand package" -l json -d 'Print a JSON description of the package on stdout (instead of its digest)'
complete -c eider -n "__fish_eider_using_subcommand package" -l locked -d 'Use only the image digests of Drakefile.lock'
complete -c eider -n "__fish_eider_using_subcommand package" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c eider -n "__fish_eider_using_subcommand verify" -l drakefile -d 'Also check the package\'s job against this Drakefile\'s definition of it' -r
complete -c eider -n "__fish_eider_using_subcommand verify" -l registry-auth -d 'Registry credentials for HOST, or without HOST for the registry the command writes to (package) or reads the package from (verify); repeatable, one per line in the variable (else the Docker config: ~/.docker/config.json and its credential helpers, per host)' -r
complete -c eider -n "__fish_eider_using_subcommand verify" -l insecure-registry -d 'Talk plain HTTP to this registry (repeatable; loopback registries always may)' -r
complete -c eider -n "__fish_eider_using_subcommand verify" -l backend -d 'Where jobs run: the local container engine, or a Kubernetes cluster [default: docker, or the config file\'s]' -r -f -a "docker\t'The Docker Engine (or an engine with its API, such as Podman\'s)'
kubernetes\t'A Kubernetes cluster (1.29 or later): one Pod per job'"
complete -c eider -n "__fish_eider_using_subcommand verify" -l context -d 'Kubernetes: the kubeconfig context of the cluster [default: the current context]' -r
complete -c eider -n "__fish_eider_using_subcommand verify" -l namespace -d 'Kubernetes: the namespace of everything eider creates [default: the context\'s]' -r
complete -c eider -n "__fish_eider_using_subcommand verify" -l registry -d 'Kubernetes: the repository the source image is pushed to, which the cluster pulls from (needed when a job mounts the source) [default: the config file\'s]' -r
complete -c eider -n "__fish_eider_using_subcommand verify" -l helper-image -d 'Kubernetes: the image of eider\'s helper containers, which must have `sh`, `cp` and `tar`: the source image is built on it, shared storage is copied out with it [default: docker.io/library/busybox:1.37, or the config file\'s]' -r
complete -c eider -n "__fish_eider_using_subcommand verify" -l image-pull-secret -d 'Kubernetes: a Secret of the namespace the nodes pull images with (repeatable) [default: the config file\'s]' -r
complete -c eider -n "__fish_eider_using_subcommand verify" -s f -l file -d 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]' -r
complete -c eider -n "__fish_eider_using_subcommand verify" -l color -d 'When to color output (NO_COLOR is honored by `auto`)' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c eider -n "__fish_eider_using_subcommand verify" -l run -d 'Then run the job it records from it, as `eider run PACKAGE` does: loaded into the local engine, or pulled by a cluster (no Drakefile needed; with --drakefile, sidecars that mount the source get that Drakefile\'s tree, on the local engine); exits as `eider run` does'
complete -c eider -n "__fish_eider_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c eider -n "__fish_eider_using_subcommand manifests" -s p -l pipeline -d 'Describe every job of this pipeline' -r
complete -c eider -n "__fish_eider_using_subcommand manifests" -l namespace -d 'The namespace of every object [default: the config file\'s, else `default`]' -r
complete -c eider -n "__fish_eider_using_subcommand manifests" -l timeout -d 'How long a job may run before the cluster ends it [default: 1h, or the config file\'s]' -r
complete -c eider -n "__fish_eider_using_subcommand manifests" -l storage-class -d 'Kubernetes: the storage class of the run\'s shared-storage claim [default: the config file\'s, else the cluster\'s]' -r
complete -c eider -n "__fish_eider_using_subcommand manifests" -l shared-storage-size -d 'Kubernetes: the size of the run\'s shared-storage claim [default: the config file\'s, else 1Gi]' -r
complete -c eider -n "__fish_eider_using_subcommand manifests" -l shared-storage-access -d 'Kubernetes: how the run\'s claims are attached: by every node (`ReadWriteMany`), or by one (`ReadWriteOnce`: the run\'s Pods that mount one then run on one node) [default: the config file\'s, else `ReadWriteMany`]' -r -f -a "ReadWriteMany\t'Every node may attach it: the run\'s Pods go anywhere'
ReadWriteOnce\t'One node at a time: the run\'s Pods that mount it share one node'"
complete -c eider -n "__fish_eider_using_subcommand manifests" -l registry -d 'Kubernetes: the repository the source image is pushed to, which the cluster pulls from (needed when a job mounts the source) [default: the config file\'s]' -r
complete -c eider -n "__fish_eider_using_subcommand manifests" -l helper-image -d 'Kubernetes: the image of eider\'s helper containers, which must have `sh`, `cp` and `tar`: the source image is built on it, shared storage is copied out with it [default: docker.io/library/busybox:1.37, or the config file\'s]' -r
complete -c eider -n "__fish_eider_using_subcommand manifests" -l image-pull-secret -d 'Kubernetes: a Secret of the namespace the nodes pull images with (repeatable) [default: the config file\'s]' -r
complete -c eider -n "__fish_eider_using_subcommand manifests" -s s -l secrets -d 'Secrets file: a flat YAML map, given to every container and masked in all output [default: Drakesecrets.yaml beside the Drakefile, when present]' -r
complete -c eider -n "__fish_eider_using_subcommand manifests" -s e -l env -d 'Set a variable in every container: KEY=VALUE, or KEY to take it from eider\'s environment (the Drakefile\'s `environment` wins). Values are taken whole, newlines included' -r
complete -c eider -n "__fish_eider_using_subcommand manifests" -l env-file -d 'Read variables from a file of KEY=VALUE lines (Docker\'s format)' -r
complete -c eider -n "__fish_eider_using_subcommand manifests" -l registry-auth -d 'Registry credentials for HOST, or without HOST for the registry the command writes to (package) or reads the package from (verify); repeatable, one per line in the variable (else the Docker config: ~/.docker/config.json and its credential helpers, per host)' -r
complete -c eider -n "__fish_eider_using_subcommand manifests" -l insecure-registry -d 'Talk plain HTTP to this registry (repeatable; loopback registries always may)' -r
complete -c eider -n "__fish_eider_using_subcommand manifests" -l config -d 'The eider config file [default: eider/config.toml in the user\'s config directory]' -r
complete -c eider -n "__fish_eider_using_subcommand manifests" -s f -l file -d 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]' -r
complete -c eider -n "__fish_eider_using_subcommand manifests" -l color -d 'When to color output (NO_COLOR is honored by `auto`)' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c eider -n "__fish_eider_using_subcommand manifests" -l allow-privileged -d 'Honor `privileged: true`'
complete -c eider -n "__fish_eider_using_subcommand manifests" -l allow-docker-socket -d 'Honor `mountDockerSocket: true`'
complete -c eider -n "__fish_eider_using_subcommand manifests" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c eider -n "__fish_eider_using_subcommand completions" -s f -l file -d 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]' -r
complete -c eider -n "__fish_eider_using_subcommand completions" -l color -d 'When to color output (NO_COLOR is honored by `auto`)' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c eider -n "__fish_eider_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c eider -n "__fish_eider_using_subcommand help; and not __fish_seen_subcommand_from validate list init schema upgrade run graph clean lock package verify manifests completions help" -f -a "validate" -d 'Check the Drakefile against its DrakeSpec version and report every problem'
complete -c eider -n "__fish_eider_using_subcommand help; and not __fish_seen_subcommand_from validate list init schema upgrade run graph clean lock package verify manifests completions help" -f -a "list" -d 'List the Drakefile\'s jobs (or pipelines), sorted by name'
complete -c eider -n "__fish_eider_using_subcommand help; and not __fish_seen_subcommand_from validate list init schema upgrade run graph clean lock package verify manifests completions help" -f -a "init" -d 'Write a commented starter Drakefile (latest DrakeSpec version)'
complete -c eider -n "__fish_eider_using_subcommand help; and not __fish_seen_subcommand_from validate list init schema upgrade run graph clean lock package verify manifests completions help" -f -a "schema" -d 'Print the JSON Schema of a Drakefile, for editors'
complete -c eider -n "__fish_eider_using_subcommand help; and not __fish_seen_subcommand_from validate list init schema upgrade run graph clean lock package verify manifests completions help" -f -a "upgrade" -d 'Rewrite the Drakefile in place for a newer DrakeSpec version, keeping its comments, anchors and layout; refuse (and write nothing) what has no faithful equivalent'
complete -c eider -n "__fish_eider_using_subcommand help; and not __fish_seen_subcommand_from validate list init schema upgrade run graph clean lock package verify manifests completions help" -f -a "run" -d 'Run jobs (in order, each only if the previous one succeeded) or a pipeline (as a DAG) on the Docker Engine; or the job a package holds, from the package, without a Drakefile'
complete -c eider -n "__fish_eider_using_subcommand help; and not __fish_seen_subcommand_from validate list init schema upgrade run graph clean lock package verify manifests completions help" -f -a "graph" -d 'Print a pipeline\'s DAG as Graphviz DOT, Mermaid or SVG'
complete -c eider -n "__fish_eider_using_subcommand help; and not __fish_seen_subcommand_from validate list init schema upgrade run graph clean lock package verify manifests completions help" -f -a "clean" -d 'Remove containers and volumes left behind by an eider that crashed'
complete -c eider -n "__fish_eider_using_subcommand help; and not __fish_seen_subcommand_from validate list init schema upgrade run graph clean lock package verify manifests completions help" -f -a "lock" -d 'Resolve every image of the Drakefile to a digest and write Drakefile.lock, for `run --locked` and `package --locked`'
complete -c eider -n "__fish_eider_using_subcommand help; and not __fish_seen_subcommand_from validate list init schema upgrade run graph clean lock package verify manifests completions help" -f -a "package" -d 'Package a job as a reproducible OCI image: its base image, its dependencies and its source, with its command; written to an OCI layout, a Docker archive, a registry or the local engine'
complete -c eider -n "__fish_eider_using_subcommand help; and not __fish_seen_subcommand_from validate list init schema upgrade run graph clean lock package verify manifests completions help" -f -a "verify" -d 'Check a package: every blob\'s digest and size, the manifest and config against each other, and its labels against the Drakefile'
complete -c eider -n "__fish_eider_using_subcommand help; and not __fish_seen_subcommand_from validate list init schema upgrade run graph clean lock package verify manifests completions help" -f -a "manifests" -d 'Print the Kubernetes objects that would run jobs or a pipeline on a cluster, as multi-document YAML, without contacting any cluster'
complete -c eider -n "__fish_eider_using_subcommand help; and not __fish_seen_subcommand_from validate list init schema upgrade run graph clean lock package verify manifests completions help" -f -a "completions" -d 'Print the completion script of a shell (bash, zsh, fish, powershell or elvish), for the shell to load'
complete -c eider -n "__fish_eider_using_subcommand help; and not __fish_seen_subcommand_from validate list init schema upgrade run graph clean lock package verify manifests completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
