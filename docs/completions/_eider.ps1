
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'eider' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'eider'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'eider' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color output (NO_COLOR is honored by `auto`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check the Drakefile against its DrakeSpec version and report every problem')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the Drakefile''s jobs (or pipelines), sorted by name')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List the Drakefile''s jobs (or pipelines), sorted by name')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a commented starter Drakefile (latest DrakeSpec version)')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print the JSON Schema of a Drakefile, for editors')
            [CompletionResult]::new('upgrade', 'upgrade', [CompletionResultType]::ParameterValue, 'Rewrite the Drakefile in place for a newer DrakeSpec version, keeping its comments, anchors and layout; refuse (and write nothing) what has no faithful equivalent')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run jobs (in order, each only if the previous one succeeded) or a pipeline (as a DAG) on the Docker Engine; or the job a package holds, from the package, without a Drakefile')
            [CompletionResult]::new('graph', 'graph', [CompletionResultType]::ParameterValue, 'Print a pipeline''s DAG as Graphviz DOT, Mermaid or SVG')
            [CompletionResult]::new('clean', 'clean', [CompletionResultType]::ParameterValue, 'Remove containers and volumes left behind by an eider that crashed')
            [CompletionResult]::new('lock', 'lock', [CompletionResultType]::ParameterValue, 'Resolve every image of the Drakefile to a digest and write Drakefile.lock, for `run --locked` and `package --locked`')
            [CompletionResult]::new('package', 'package', [CompletionResultType]::ParameterValue, 'Package a job as a reproducible OCI image: its base image, its dependencies and its source, with its command; written to an OCI layout, a Docker archive, a registry or the local engine')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check a package: every blob''s digest and size, the manifest and config against each other, and its labels against the Drakefile')
            [CompletionResult]::new('manifests', 'manifests', [CompletionResultType]::ParameterValue, 'Print the Kubernetes objects that would run jobs or a pipeline on a cluster, as multi-document YAML, without contacting any cluster')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script of a shell (bash, zsh, fish, powershell or elvish), for the shell to load')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'eider;validate' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color output (NO_COLOR is honored by `auto`)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result and every diagnostic as JSON on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'eider;list' {
            [CompletionResult]::new('--event', '--event', [CompletionResultType]::ParameterName, 'With -p: only the pipelines whose triggers match this event, in Drakefile order')
            [CompletionResult]::new('--branch', '--branch', [CompletionResultType]::ParameterName, 'The branch of the event (a push, or a pull request''s target) [default: the current git branch]')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'The tag of a push event [default: the tag at HEAD when no branch is checked out]')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color output (NO_COLOR is honored by `auto`)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'List pipelines instead of jobs')
            [CompletionResult]::new('--pipelines', '--pipelines', [CompletionResultType]::ParameterName, 'List pipelines instead of jobs')
            [CompletionResult]::new('--pipeline', '--pipeline', [CompletionResultType]::ParameterName, 'List pipelines instead of jobs')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the whole normalized model as JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'eider;ls' {
            [CompletionResult]::new('--event', '--event', [CompletionResultType]::ParameterName, 'With -p: only the pipelines whose triggers match this event, in Drakefile order')
            [CompletionResult]::new('--branch', '--branch', [CompletionResultType]::ParameterName, 'The branch of the event (a push, or a pull request''s target) [default: the current git branch]')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'The tag of a push event [default: the tag at HEAD when no branch is checked out]')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color output (NO_COLOR is honored by `auto`)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'List pipelines instead of jobs')
            [CompletionResult]::new('--pipelines', '--pipelines', [CompletionResultType]::ParameterName, 'List pipelines instead of jobs')
            [CompletionResult]::new('--pipeline', '--pipeline', [CompletionResultType]::ParameterName, 'List pipelines instead of jobs')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the whole normalized model as JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'eider;init' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color output (NO_COLOR is honored by `auto`)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace an existing Drakefile')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'eider;schema' {
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'The DrakeSpec version [default: the latest]')
            [CompletionResult]::new('--spec-version', '--spec-version', [CompletionResultType]::ParameterName, 'The DrakeSpec version [default: the latest]')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color output (NO_COLOR is honored by `auto`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'eider;upgrade' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The DrakeSpec version to upgrade to [default: the latest]')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color output (NO_COLOR is honored by `auto`)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the changes as a unified diff on stdout and write nothing')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'eider;run' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Run this pipeline: its jobs as a DAG, each once its dependencies succeeded')
            [CompletionResult]::new('--pipeline', '--pipeline', [CompletionResultType]::ParameterName, 'Run this pipeline: its jobs as a DAG, each once its dependencies succeeded')
            [CompletionResult]::new('--event', '--event', [CompletionResultType]::ParameterName, 'Run every pipeline whose triggers match this event (see --branch, --tag)')
            [CompletionResult]::new('--branch', '--branch', [CompletionResultType]::ParameterName, 'The branch of the event (a push, or a pull request''s target) [default: the current git branch]')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'The tag of a push event [default: the tag at HEAD when no branch is checked out]')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'How many jobs of a pipeline run at once [default: the number of CPU cores]')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'How many jobs of a pipeline run at once [default: the number of CPU cores]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'How many jobs of a pipeline run at once [default: the number of CPU cores]')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'How many jobs of a pipeline run at once [default: the number of CPU cores]')
            [CompletionResult]::new('--report', '--report', [CompletionResultType]::ParameterName, 'Write a report when the run ends: junit=FILE or json=FILE (repeatable)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long a job may run before it is killed and fails [default: 1h, or the config file''s]')
            [CompletionResult]::new('--grace-period', '--grace-period', [CompletionResultType]::ParameterName, 'How long containers get between SIGTERM and SIGKILL when a run is interrupted [default: 10s]')
            [CompletionResult]::new('--engine-timeout', '--engine-timeout', [CompletionResultType]::ParameterName, 'How long the container engine may go without answering (frozen, restarting) before the job it serves ends as an infrastructure failure [default: 60s]')
            [CompletionResult]::new('--network', '--network', [CompletionResultType]::ParameterName, 'Attach each job''s first container to this network [default: the engine''s default]')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Where jobs run: the local container engine, or a Kubernetes cluster [default: docker, or the config file''s]')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context of the cluster [default: the current context]')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Kubernetes: the namespace of everything eider creates [default: the context''s]')
            [CompletionResult]::new('--storage-class', '--storage-class', [CompletionResultType]::ParameterName, 'Kubernetes: the storage class of the run''s shared-storage claim [default: the config file''s, else the cluster''s]')
            [CompletionResult]::new('--shared-storage-size', '--shared-storage-size', [CompletionResultType]::ParameterName, 'Kubernetes: the size of the run''s shared-storage claim [default: the config file''s, else 1Gi]')
            [CompletionResult]::new('--shared-storage-access', '--shared-storage-access', [CompletionResultType]::ParameterName, 'Kubernetes: how the run''s claims are attached: by every node (`ReadWriteMany`), or by one (`ReadWriteOnce`: the run''s Pods that mount one then run on one node) [default: the config file''s, else `ReadWriteMany`]')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Kubernetes: the repository the source image is pushed to, which the cluster pulls from (needed when a job mounts the source) [default: the config file''s]')
            [CompletionResult]::new('--helper-image', '--helper-image', [CompletionResultType]::ParameterName, 'Kubernetes: the image of eider''s helper containers, which must have `sh`, `cp` and `tar`: the source image is built on it, shared storage is copied out with it [default: docker.io/library/busybox:1.37, or the config file''s]')
            [CompletionResult]::new('--image-pull-secret', '--image-pull-secret', [CompletionResultType]::ParameterName, 'Kubernetes: a Secret of the namespace the nodes pull images with (repeatable) [default: the config file''s]')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Secrets file: a flat YAML map, given to every container and masked in all output [default: Drakesecrets.yaml beside the Drakefile, when present]')
            [CompletionResult]::new('--secrets', '--secrets', [CompletionResultType]::ParameterName, 'Secrets file: a flat YAML map, given to every container and masked in all output [default: Drakesecrets.yaml beside the Drakefile, when present]')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Set a variable in every container: KEY=VALUE, or KEY to take it from eider''s environment (the Drakefile''s `environment` wins). Values are taken whole, newlines included')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Set a variable in every container: KEY=VALUE, or KEY to take it from eider''s environment (the Drakefile''s `environment` wins). Values are taken whole, newlines included')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Read variables from a file of KEY=VALUE lines (Docker''s format)')
            [CompletionResult]::new('--registry-auth', '--registry-auth', [CompletionResultType]::ParameterName, 'Registry credentials for HOST, or without HOST for the registry the command writes to (package) or reads the package from (verify); repeatable, one per line in the variable (else the Docker config: ~/.docker/config.json and its credential helpers, per host)')
            [CompletionResult]::new('--insecure-registry', '--insecure-registry', [CompletionResultType]::ParameterName, 'Talk plain HTTP to this registry (repeatable; loopback registries always may)')
            [CompletionResult]::new('--source-mode', '--source-mode', [CompletionResultType]::ParameterName, 'Seed-draft files only: `copy` gives each run a writable copy of the source, `rw` binds the live tree')
            [CompletionResult]::new('--log-limit', '--log-limit', [CompletionResultType]::ParameterName, 'Print at most SIZE of each job''s output (e.g. 4MiB, 500k; 0 or none: no limit), then one notice; the job runs on [default: none, or the config file''s]')
            [CompletionResult]::new('--keep-shared', '--keep-shared', [CompletionResultType]::ParameterName, 'Copy the run''s shared storage into DIR before it is removed')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The eider config file [default: eider/config.toml in the user''s config directory]')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color output (NO_COLOR is honored by `auto`)')
            [CompletionResult]::new('--keep-going', '--keep-going', [CompletionResultType]::ParameterName, 'After a failure, still run every job whose dependencies succeeded (default: cancel every pending job, as the DrakeSpec says)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the execution plan (stages of jobs that may run together) and run nothing')
            [CompletionResult]::new('--locked', '--locked', [CompletionResultType]::ParameterName, 'Run every image at the digest Drakefile.lock gives it (see `eider lock`); an image the lock does not cover is an error')
            [CompletionResult]::new('--packaged', '--packaged', [CompletionResultType]::ParameterName, 'Package each job first (as `eider package` does) and run it from its image, without mounting the source tree into its primary container')
            [CompletionResult]::new('--allow-privileged', '--allow-privileged', [CompletionResultType]::ParameterName, 'Honor `privileged: true`')
            [CompletionResult]::new('--allow-docker-socket', '--allow-docker-socket', [CompletionResultType]::ParameterName, 'Honor `mountDockerSocket: true`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'eider;graph' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The output format')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color output (NO_COLOR is honored by `auto`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'eider;clean' {
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Where jobs run: the local container engine, or a Kubernetes cluster [default: docker, or the config file''s]')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context of the cluster [default: the current context]')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Kubernetes: the namespace of everything eider creates [default: the context''s]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The eider config file [default: eider/config.toml in the user''s config directory]')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color output (NO_COLOR is honored by `auto`)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Also remove what running eider processes created')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'eider;lock' {
            [CompletionResult]::new('--base-from', '--base-from', [CompletionResultType]::ParameterName, 'Where images are resolved for a name that is not a registry''s: the local engine, or the registry its name points at')
            [CompletionResult]::new('--registry-auth', '--registry-auth', [CompletionResultType]::ParameterName, 'Registry credentials for HOST, or without HOST for the registry the command writes to (package) or reads the package from (verify); repeatable, one per line in the variable (else the Docker config: ~/.docker/config.json and its credential helpers, per host)')
            [CompletionResult]::new('--insecure-registry', '--insecure-registry', [CompletionResultType]::ParameterName, 'Talk plain HTTP to this registry (repeatable; loopback registries always may)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color output (NO_COLOR is honored by `auto`)')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Check that Drakefile.lock covers every image and is up to date, without writing it (exit 1 when it is not)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'eider;package' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Where the image goes (repeatable): `oci:DIR[:TAG]`, `docker-archive:FILE`, `docker://REGISTRY/REPOSITORY:TAG` (or `REGISTRY/REPOSITORY:TAG`), `docker-daemon:NAME:TAG` [default: `oci:.eider/packages:JOB`]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Where the image goes (repeatable): `oci:DIR[:TAG]`, `docker-archive:FILE`, `docker://REGISTRY/REPOSITORY:TAG` (or `REGISTRY/REPOSITORY:TAG`), `docker-daemon:NAME:TAG` [default: `oci:.eider/packages:JOB`]')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'The package''s version [default: `git describe --tags --always`, `-dirty` when the tree has changes]')
            [CompletionResult]::new('--compression', '--compression', [CompletionResultType]::ParameterName, 'How the new layers are compressed (Docker 20.10 cannot pull zstd layers)')
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'Where the source goes in the image when the job''s container has no sourceMountPath [default: `path` in eider.toml, else /src]')
            [CompletionResult]::new('--base-from', '--base-from', [CompletionResultType]::ParameterName, 'Where the base image comes from, for a name that is not a registry''s: the local engine, or the registry its name points at')
            [CompletionResult]::new('--base', '--base', [CompletionResultType]::ParameterName, 'Take the base image from here instead of the primary container''s `image`: `oci:DIR[:TAG]`, `docker-daemon:NAME`, `docker://REGISTRY/REPOSITORY:TAG`')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Secrets file of the job''s runs: none of its values may be in the package, and the file itself is never packaged (Drakesecrets.yaml beside the Drakefile is always checked too)')
            [CompletionResult]::new('--secrets', '--secrets', [CompletionResultType]::ParameterName, 'Secrets file of the job''s runs: none of its values may be in the package, and the file itself is never packaged (Drakesecrets.yaml beside the Drakefile is always checked too)')
            [CompletionResult]::new('--registry-auth', '--registry-auth', [CompletionResultType]::ParameterName, 'Registry credentials for HOST, or without HOST for the registry the command writes to (package) or reads the package from (verify); repeatable, one per line in the variable (else the Docker config: ~/.docker/config.json and its credential helpers, per host)')
            [CompletionResult]::new('--insecure-registry', '--insecure-registry', [CompletionResultType]::ParameterName, 'Talk plain HTTP to this registry (repeatable; loopback registries always may)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color output (NO_COLOR is honored by `auto`)')
            [CompletionResult]::new('--docker-media-types', '--docker-media-types', [CompletionResultType]::ParameterName, 'Write the manifest with Docker v2 media types (for engines that predate OCI images)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON description of the package on stdout (instead of its digest)')
            [CompletionResult]::new('--locked', '--locked', [CompletionResultType]::ParameterName, 'Use only the image digests of Drakefile.lock')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'eider;verify' {
            [CompletionResult]::new('--drakefile', '--drakefile', [CompletionResultType]::ParameterName, 'Also check the package''s job against this Drakefile''s definition of it')
            [CompletionResult]::new('--registry-auth', '--registry-auth', [CompletionResultType]::ParameterName, 'Registry credentials for HOST, or without HOST for the registry the command writes to (package) or reads the package from (verify); repeatable, one per line in the variable (else the Docker config: ~/.docker/config.json and its credential helpers, per host)')
            [CompletionResult]::new('--insecure-registry', '--insecure-registry', [CompletionResultType]::ParameterName, 'Talk plain HTTP to this registry (repeatable; loopback registries always may)')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Where jobs run: the local container engine, or a Kubernetes cluster [default: docker, or the config file''s]')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubernetes: the kubeconfig context of the cluster [default: the current context]')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Kubernetes: the namespace of everything eider creates [default: the context''s]')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Kubernetes: the repository the source image is pushed to, which the cluster pulls from (needed when a job mounts the source) [default: the config file''s]')
            [CompletionResult]::new('--helper-image', '--helper-image', [CompletionResultType]::ParameterName, 'Kubernetes: the image of eider''s helper containers, which must have `sh`, `cp` and `tar`: the source image is built on it, shared storage is copied out with it [default: docker.io/library/busybox:1.37, or the config file''s]')
            [CompletionResult]::new('--image-pull-secret', '--image-pull-secret', [CompletionResultType]::ParameterName, 'Kubernetes: a Secret of the namespace the nodes pull images with (repeatable) [default: the config file''s]')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color output (NO_COLOR is honored by `auto`)')
            [CompletionResult]::new('--run', '--run', [CompletionResultType]::ParameterName, 'Then run the job it records from it, as `eider run PACKAGE` does: loaded into the local engine, or pulled by a cluster (no Drakefile needed; with --drakefile, sidecars that mount the source get that Drakefile''s tree, on the local engine); exits as `eider run` does')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'eider;manifests' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Describe every job of this pipeline')
            [CompletionResult]::new('--pipeline', '--pipeline', [CompletionResultType]::ParameterName, 'Describe every job of this pipeline')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace of every object [default: the config file''s, else `default`]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long a job may run before the cluster ends it [default: 1h, or the config file''s]')
            [CompletionResult]::new('--storage-class', '--storage-class', [CompletionResultType]::ParameterName, 'Kubernetes: the storage class of the run''s shared-storage claim [default: the config file''s, else the cluster''s]')
            [CompletionResult]::new('--shared-storage-size', '--shared-storage-size', [CompletionResultType]::ParameterName, 'Kubernetes: the size of the run''s shared-storage claim [default: the config file''s, else 1Gi]')
            [CompletionResult]::new('--shared-storage-access', '--shared-storage-access', [CompletionResultType]::ParameterName, 'Kubernetes: how the run''s claims are attached: by every node (`ReadWriteMany`), or by one (`ReadWriteOnce`: the run''s Pods that mount one then run on one node) [default: the config file''s, else `ReadWriteMany`]')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Kubernetes: the repository the source image is pushed to, which the cluster pulls from (needed when a job mounts the source) [default: the config file''s]')
            [CompletionResult]::new('--helper-image', '--helper-image', [CompletionResultType]::ParameterName, 'Kubernetes: the image of eider''s helper containers, which must have `sh`, `cp` and `tar`: the source image is built on it, shared storage is copied out with it [default: docker.io/library/busybox:1.37, or the config file''s]')
            [CompletionResult]::new('--image-pull-secret', '--image-pull-secret', [CompletionResultType]::ParameterName, 'Kubernetes: a Secret of the namespace the nodes pull images with (repeatable) [default: the config file''s]')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Secrets file: a flat YAML map, given to every container and masked in all output [default: Drakesecrets.yaml beside the Drakefile, when present]')
            [CompletionResult]::new('--secrets', '--secrets', [CompletionResultType]::ParameterName, 'Secrets file: a flat YAML map, given to every container and masked in all output [default: Drakesecrets.yaml beside the Drakefile, when present]')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Set a variable in every container: KEY=VALUE, or KEY to take it from eider''s environment (the Drakefile''s `environment` wins). Values are taken whole, newlines included')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Set a variable in every container: KEY=VALUE, or KEY to take it from eider''s environment (the Drakefile''s `environment` wins). Values are taken whole, newlines included')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Read variables from a file of KEY=VALUE lines (Docker''s format)')
            [CompletionResult]::new('--registry-auth', '--registry-auth', [CompletionResultType]::ParameterName, 'Registry credentials for HOST, or without HOST for the registry the command writes to (package) or reads the package from (verify); repeatable, one per line in the variable (else the Docker config: ~/.docker/config.json and its credential helpers, per host)')
            [CompletionResult]::new('--insecure-registry', '--insecure-registry', [CompletionResultType]::ParameterName, 'Talk plain HTTP to this registry (repeatable; loopback registries always may)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The eider config file [default: eider/config.toml in the user''s config directory]')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color output (NO_COLOR is honored by `auto`)')
            [CompletionResult]::new('--allow-privileged', '--allow-privileged', [CompletionResultType]::ParameterName, 'Honor `privileged: true`')
            [CompletionResult]::new('--allow-docker-socket', '--allow-docker-socket', [CompletionResultType]::ParameterName, 'Honor `mountDockerSocket: true`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'eider;completions' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color output (NO_COLOR is honored by `auto`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'eider;help' {
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check the Drakefile against its DrakeSpec version and report every problem')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the Drakefile''s jobs (or pipelines), sorted by name')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a commented starter Drakefile (latest DrakeSpec version)')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print the JSON Schema of a Drakefile, for editors')
            [CompletionResult]::new('upgrade', 'upgrade', [CompletionResultType]::ParameterValue, 'Rewrite the Drakefile in place for a newer DrakeSpec version, keeping its comments, anchors and layout; refuse (and write nothing) what has no faithful equivalent')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run jobs (in order, each only if the previous one succeeded) or a pipeline (as a DAG) on the Docker Engine; or the job a package holds, from the package, without a Drakefile')
            [CompletionResult]::new('graph', 'graph', [CompletionResultType]::ParameterValue, 'Print a pipeline''s DAG as Graphviz DOT, Mermaid or SVG')
            [CompletionResult]::new('clean', 'clean', [CompletionResultType]::ParameterValue, 'Remove containers and volumes left behind by an eider that crashed')
            [CompletionResult]::new('lock', 'lock', [CompletionResultType]::ParameterValue, 'Resolve every image of the Drakefile to a digest and write Drakefile.lock, for `run --locked` and `package --locked`')
            [CompletionResult]::new('package', 'package', [CompletionResultType]::ParameterValue, 'Package a job as a reproducible OCI image: its base image, its dependencies and its source, with its command; written to an OCI layout, a Docker archive, a registry or the local engine')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check a package: every blob''s digest and size, the manifest and config against each other, and its labels against the Drakefile')
            [CompletionResult]::new('manifests', 'manifests', [CompletionResultType]::ParameterValue, 'Print the Kubernetes objects that would run jobs or a pipeline on a cluster, as multi-document YAML, without contacting any cluster')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script of a shell (bash, zsh, fish, powershell or elvish), for the shell to load')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'eider;help;validate' {
            break
        }
        'eider;help;list' {
            break
        }
        'eider;help;init' {
            break
        }
        'eider;help;schema' {
            break
        }
        'eider;help;upgrade' {
            break
        }
        'eider;help;run' {
            break
        }
        'eider;help;graph' {
            break
        }
        'eider;help;clean' {
            break
        }
        'eider;help;lock' {
            break
        }
        'eider;help;package' {
            break
        }
        'eider;help;verify' {
            break
        }
        'eider;help;manifests' {
            break
        }
        'eider;help;completions' {
            break
        }
        'eider;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
