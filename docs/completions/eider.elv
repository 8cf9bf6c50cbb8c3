
use builtin;
use str;

set edit:completion:arg-completer[eider] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'eider'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'eider'= {
            cand -f 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --file 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --color 'When to color output (NO_COLOR is honored by `auto`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand validate 'Check the Drakefile against its DrakeSpec version and report every problem'
            cand list 'List the Drakefile''s jobs (or pipelines), sorted by name'
            cand ls 'List the Drakefile''s jobs (or pipelines), sorted by name'
            cand init 'Write a commented starter Drakefile (latest DrakeSpec version)'
            cand schema 'Print the JSON Schema of a Drakefile, for editors'
            cand upgrade 'Rewrite the Drakefile in place for a newer DrakeSpec version, keeping its comments, anchors and layout; refuse (and write nothing) what has no faithful equivalent'
            cand run 'Run jobs (in order, each only if the previous one succeeded) or a pipeline (as a DAG) on the Docker Engine; or the job a package holds, from the package, without a Drakefile'
            cand graph 'Print a pipeline''s DAG as Graphviz DOT, Mermaid or SVG'
            cand clean 'Remove containers and volumes left behind by an eider that crashed'
            cand lock 'Resolve every image of the Drakefile to a digest and write Drakefile.lock, for `run --locked` and `package --locked`'
            cand package 'Package a job as a reproducible OCI image: its base image, its dependencies and its source, with its command; written to an OCI layout, a Docker archive, a registry or the local engine'
            cand verify 'Check a package: every blob''s digest and size, the manifest and config against each other, and its labels against the Drakefile'
            cand manifests 'Print the Kubernetes objects that would run jobs or a pipeline on a cluster, as multi-document YAML, without contacting any cluster'
            cand completions 'Print the completion script of a shell (bash, zsh, fish, powershell or elvish), for the shell to load'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'eider;validate'= {
            cand -f 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --file 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --color 'When to color output (NO_COLOR is honored by `auto`)'
            cand --json 'Print the result and every diagnostic as JSON on stdout'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'eider;list'= {
            cand --event 'With -p: only the pipelines whose triggers match this event, in Drakefile order'
            cand --branch 'The branch of the event (a push, or a pull request''s target) [default: the current git branch]'
            cand --tag 'The tag of a push event [default: the tag at HEAD when no branch is checked out]'
            cand -f 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --file 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --color 'When to color output (NO_COLOR is honored by `auto`)'
            cand -p 'List pipelines instead of jobs'
            cand --pipelines 'List pipelines instead of jobs'
            cand --pipeline 'List pipelines instead of jobs'
            cand --json 'Print the whole normalized model as JSON'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'eider;ls'= {
            cand --event 'With -p: only the pipelines whose triggers match this event, in Drakefile order'
            cand --branch 'The branch of the event (a push, or a pull request''s target) [default: the current git branch]'
            cand --tag 'The tag of a push event [default: the tag at HEAD when no branch is checked out]'
            cand -f 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --file 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --color 'When to color output (NO_COLOR is honored by `auto`)'
            cand -p 'List pipelines instead of jobs'
            cand --pipelines 'List pipelines instead of jobs'
            cand --pipeline 'List pipelines instead of jobs'
            cand --json 'Print the whole normalized model as JSON'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'eider;init'= {
            cand -f 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --file 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --color 'When to color output (NO_COLOR is honored by `auto`)'
            cand --force 'Replace an existing Drakefile'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'eider;schema'= {
            cand --version 'The DrakeSpec version [default: the latest]'
            cand --spec-version 'The DrakeSpec version [default: the latest]'
            cand -f 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --file 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --color 'When to color output (NO_COLOR is honored by `auto`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'eider;upgrade'= {
            cand --to 'The DrakeSpec version to upgrade to [default: the latest]'
            cand -f 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --file 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --color 'When to color output (NO_COLOR is honored by `auto`)'
            cand --dry-run 'Print the changes as a unified diff on stdout and write nothing'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'eider;run'= {
            cand -p 'Run this pipeline: its jobs as a DAG, each once its dependencies succeeded'
            cand --pipeline 'Run this pipeline: its jobs as a DAG, each once its dependencies succeeded'
            cand --event 'Run every pipeline whose triggers match this event (see --branch, --tag)'
            cand --branch 'The branch of the event (a push, or a pull request''s target) [default: the current git branch]'
            cand --tag 'The tag of a push event [default: the tag at HEAD when no branch is checked out]'
            cand -c 'How many jobs of a pipeline run at once [default: the number of CPU cores]'
            cand -j 'How many jobs of a pipeline run at once [default: the number of CPU cores]'
            cand --concurrency 'How many jobs of a pipeline run at once [default: the number of CPU cores]'
            cand --jobs 'How many jobs of a pipeline run at once [default: the number of CPU cores]'
            cand --report 'Write a report when the run ends: junit=FILE or json=FILE (repeatable)'
            cand --timeout 'How long a job may run before it is killed and fails [default: 1h, or the config file''s]'
            cand --grace-period 'How long containers get between SIGTERM and SIGKILL when a run is interrupted [default: 10s]'
            cand --engine-timeout 'How long the container engine may go without answering (frozen, restarting) before the job it serves ends as an infrastructure failure [default: 60s]'
            cand --network 'Attach each job''s first container to this network [default: the engine''s default]'
            cand --backend 'Where jobs run: the local container engine, or a Kubernetes cluster [default: docker, or the config file''s]'
            cand --context 'Kubernetes: the kubeconfig context of the cluster [default: the current context]'
            cand --namespace 'Kubernetes: the namespace of everything eider creates [default: the context''s]'
            cand --storage-class 'Kubernetes: the storage class of the run''s shared-storage claim [default: the config file''s, else the cluster''s]'
            cand --shared-storage-size 'Kubernetes: the size of the run''s shared-storage claim [default: the config file''s, else 1Gi]'
            cand --shared-storage-access 'Kubernetes: how the run''s claims are attached: by every node (`ReadWriteMany`), or by one (`ReadWriteOnce`: the run''s Pods that mount one then run on one node) [default: the config file''s, else `ReadWriteMany`]'
            cand --registry 'Kubernetes: the repository the source image is pushed to, which the cluster pulls from (needed when a job mounts the source) [default: the config file''s]'
            cand --helper-image 'Kubernetes: the image of eider''s helper containers, which must have `sh`, `cp` and `tar`: the source image is built on it, shared storage is copied out with it [default: docker.io/library/busybox:1.37, or the config file''s]'
            cand --image-pull-secret 'Kubernetes: a Secret of the namespace the nodes pull images with (repeatable) [default: the config file''s]'
            cand -s 'Secrets file: a flat YAML map, given to every container and masked in all output [default: Drakesecrets.yaml beside the Drakefile, when present]'
            cand --secrets 'Secrets file: a flat YAML map, given to every container and masked in all output [default: Drakesecrets.yaml beside the Drakefile, when present]'
            cand -e 'Set a variable in every container: KEY=VALUE, or KEY to take it from eider''s environment (the Drakefile''s `environment` wins). Values are taken whole, newlines included'
            cand --env 'Set a variable in every container: KEY=VALUE, or KEY to take it from eider''s environment (the Drakefile''s `environment` wins). Values are taken whole, newlines included'
            cand --env-file 'Read variables from a file of KEY=VALUE lines (Docker''s format)'
            cand --registry-auth 'Registry credentials for HOST, or without HOST for the registry the command writes to (package) or reads the package from (verify); repeatable, one per line in the variable (else the Docker config: ~/.docker/config.json and its credential helpers, per host)'
            cand --insecure-registry 'Talk plain HTTP to this registry (repeatable; loopback registries always may)'
            cand --source-mode 'Seed-draft files only: `copy` gives each run a writable copy of the source, `rw` binds the live tree'
            cand --log-limit 'Print at most SIZE of each job''s output (e.g. 4MiB, 500k; 0 or none: no limit), then one notice; the job runs on [default: none, or the config file''s]'
            cand --keep-shared 'Copy the run''s shared storage into DIR before it is removed'
            cand --config 'The eider config file [default: eider/config.toml in the user''s config directory]'
            cand -f 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --file 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --color 'When to color output (NO_COLOR is honored by `auto`)'
            cand --keep-going 'After a failure, still run every job whose dependencies succeeded (default: cancel every pending job, as the DrakeSpec says)'
            cand --dry-run 'Print the execution plan (stages of jobs that may run together) and run nothing'
            cand --locked 'Run every image at the digest Drakefile.lock gives it (see `eider lock`); an image the lock does not cover is an error'
            cand --packaged 'Package each job first (as `eider package` does) and run it from its image, without mounting the source tree into its primary container'
            cand --allow-privileged 'Honor `privileged: true`'
            cand --allow-docker-socket 'Honor `mountDockerSocket: true`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'eider;graph'= {
            cand --format 'The output format'
            cand -f 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --file 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --color 'When to color output (NO_COLOR is honored by `auto`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'eider;clean'= {
            cand --backend 'Where jobs run: the local container engine, or a Kubernetes cluster [default: docker, or the config file''s]'
            cand --context 'Kubernetes: the kubeconfig context of the cluster [default: the current context]'
            cand --namespace 'Kubernetes: the namespace of everything eider creates [default: the context''s]'
            cand --config 'The eider config file [default: eider/config.toml in the user''s config directory]'
            cand -f 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --file 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --color 'When to color output (NO_COLOR is honored by `auto`)'
            cand --all 'Also remove what running eider processes created'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'eider;lock'= {
            cand --base-from 'Where images are resolved for a name that is not a registry''s: the local engine, or the registry its name points at'
            cand --registry-auth 'Registry credentials for HOST, or without HOST for the registry the command writes to (package) or reads the package from (verify); repeatable, one per line in the variable (else the Docker config: ~/.docker/config.json and its credential helpers, per host)'
            cand --insecure-registry 'Talk plain HTTP to this registry (repeatable; loopback registries always may)'
            cand -f 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --file 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --color 'When to color output (NO_COLOR is honored by `auto`)'
            cand --check 'Check that Drakefile.lock covers every image and is up to date, without writing it (exit 1 when it is not)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'eider;package'= {
            cand -o 'Where the image goes (repeatable): `oci:DIR[:TAG]`, `docker-archive:FILE`, `docker://REGISTRY/REPOSITORY:TAG` (or `REGISTRY/REPOSITORY:TAG`), `docker-daemon:NAME:TAG` [default: `oci:.eider/packages:JOB`]'
            cand --output 'Where the image goes (repeatable): `oci:DIR[:TAG]`, `docker-archive:FILE`, `docker://REGISTRY/REPOSITORY:TAG` (or `REGISTRY/REPOSITORY:TAG`), `docker-daemon:NAME:TAG` [default: `oci:.eider/packages:JOB`]'
            cand --tag 'The package''s version [default: `git describe --tags --always`, `-dirty` when the tree has changes]'
            cand --compression 'How the new layers are compressed (Docker 20.10 cannot pull zstd layers)'
            cand --path 'Where the source goes in the image when the job''s container has no sourceMountPath [default: `path` in eider.toml, else /src]'
            cand --base-from 'Where the base image comes from, for a name that is not a registry''s: the local engine, or the registry its name points at'
            cand --base 'Take the base image from here instead of the primary container''s `image`: `oci:DIR[:TAG]`, `docker-daemon:NAME`, `docker://REGISTRY/REPOSITORY:TAG`'
            cand -s 'Secrets file of the job''s runs: none of its values may be in the package, and the file itself is never packaged (Drakesecrets.yaml beside the Drakefile is always checked too)'
            cand --secrets 'Secrets file of the job''s runs: none of its values may be in the package, and the file itself is never packaged (Drakesecrets.yaml beside the Drakefile is always checked too)'
            cand --registry-auth 'Registry credentials for HOST, or without HOST for the registry the command writes to (package) or reads the package from (verify); repeatable, one per line in the variable (else the Docker config: ~/.docker/config.json and its credential helpers, per host)'
            cand --insecure-registry 'Talk plain HTTP to this registry (repeatable; loopback registries always may)'
            cand -f 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --file 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --color 'When to color output (NO_COLOR is honored by `auto`)'
            cand --docker-media-types 'Write the manifest with Docker v2 media types (for engines that predate OCI images)'
            cand --json 'Print a JSON description of the package on stdout (instead of its digest)'
            cand --locked 'Use only the image digests of Drakefile.lock'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'eider;verify'= {
            cand --drakefile 'Also check the package''s job against this Drakefile''s definition of it'
            cand --registry-auth 'Registry credentials for HOST, or without HOST for the registry the command writes to (package) or reads the package from (verify); repeatable, one per line in the variable (else the Docker config: ~/.docker/config.json and its credential helpers, per host)'
            cand --insecure-registry 'Talk plain HTTP to this registry (repeatable; loopback registries always may)'
            cand --backend 'Where jobs run: the local container engine, or a Kubernetes cluster [default: docker, or the config file''s]'
            cand --context 'Kubernetes: the kubeconfig context of the cluster [default: the current context]'
            cand --namespace 'Kubernetes: the namespace of everything eider creates [default: the context''s]'
            cand --registry 'Kubernetes: the repository the source image is pushed to, which the cluster pulls from (needed when a job mounts the source) [default: the config file''s]'
            cand --helper-image 'Kubernetes: the image of eider''s helper containers, which must have `sh`, `cp` and `tar`: the source image is built on it, shared storage is copied out with it [default: docker.io/library/busybox:1.37, or the config file''s]'
            cand --image-pull-secret 'Kubernetes: a Secret of the namespace the nodes pull images with (repeatable) [default: the config file''s]'
            cand -f 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --file 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --color 'When to color output (NO_COLOR is honored by `auto`)'
            cand --run 'Then run the job it records from it, as `eider run PACKAGE` does: loaded into the local engine, or pulled by a cluster (no Drakefile needed; with --drakefile, sidecars that mount the source get that Drakefile''s tree, on the local engine); exits as `eider run` does'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'eider;manifests'= {
            cand -p 'Describe every job of this pipeline'
            cand --pipeline 'Describe every job of this pipeline'
            cand --namespace 'The namespace of every object [default: the config file''s, else `default`]'
            cand --timeout 'How long a job may run before the cluster ends it [default: 1h, or the config file''s]'
            cand --storage-class 'Kubernetes: the storage class of the run''s shared-storage claim [default: the config file''s, else the cluster''s]'
            cand --shared-storage-size 'Kubernetes: the size of the run''s shared-storage claim [default: the config file''s, else 1Gi]'
            cand --shared-storage-access 'Kubernetes: how the run''s claims are attached: by every node (`ReadWriteMany`), or by one (`ReadWriteOnce`: the run''s Pods that mount one then run on one node) [default: the config file''s, else `ReadWriteMany`]'
            cand --registry 'Kubernetes: the repository the source image is pushed to, which the cluster pulls from (needed when a job mounts the source) [default: the config file''s]'
            cand --helper-image 'Kubernetes: the image of eider''s helper containers, which must have `sh`, `cp` and `tar`: the source image is built on it, shared storage is copied out with it [default: docker.io/library/busybox:1.37, or the config file''s]'
            cand --image-pull-secret 'Kubernetes: a Secret of the namespace the nodes pull images with (repeatable) [default: the config file''s]'
            cand -s 'Secrets file: a flat YAML map, given to every container and masked in all output [default: Drakesecrets.yaml beside the Drakefile, when present]'
            cand --secrets 'Secrets file: a flat YAML map, given to every container and masked in all output [default: Drakesecrets.yaml beside the Drakefile, when present]'
            cand -e 'Set a variable in every container: KEY=VALUE, or KEY to take it from eider''s environment (the Drakefile''s `environment` wins). Values are taken whole, newlines included'
            cand --env 'Set a variable in every container: KEY=VALUE, or KEY to take it from eider''s environment (the Drakefile''s `environment` wins). Values are taken whole, newlines included'
            cand --env-file 'Read variables from a file of KEY=VALUE lines (Docker''s format)'
            cand --registry-auth 'Registry credentials for HOST, or without HOST for the registry the command writes to (package) or reads the package from (verify); repeatable, one per line in the variable (else the Docker config: ~/.docker/config.json and its credential helpers, per host)'
            cand --insecure-registry 'Talk plain HTTP to this registry (repeatable; loopback registries always may)'
            cand --config 'The eider config file [default: eider/config.toml in the user''s config directory]'
            cand -f 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --file 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --color 'When to color output (NO_COLOR is honored by `auto`)'
            cand --allow-privileged 'Honor `privileged: true`'
            cand --allow-docker-socket 'Honor `mountDockerSocket: true`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'eider;completions'= {
            cand -f 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --file 'The Drakefile [default: Drakefile.yaml in the current directory or the nearest parent]'
            cand --color 'When to color output (NO_COLOR is honored by `auto`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'eider;help'= {
            cand validate 'Check the Drakefile against its DrakeSpec version and report every problem'
            cand list 'List the Drakefile''s jobs (or pipelines), sorted by name'
            cand init 'Write a commented starter Drakefile (latest DrakeSpec version)'
            cand schema 'Print the JSON Schema of a Drakefile, for editors'
            cand upgrade 'Rewrite the Drakefile in place for a newer DrakeSpec version, keeping its comments, anchors and layout; refuse (and write nothing) what has no faithful equivalent'
            cand run 'Run jobs (in order, each only if the previous one succeeded) or a pipeline (as a DAG) on the Docker Engine; or the job a package holds, from the package, without a Drakefile'
            cand graph 'Print a pipeline''s DAG as Graphviz DOT, Mermaid or SVG'
            cand clean 'Remove containers and volumes left behind by an eider that crashed'
            cand lock 'Resolve every image of the Drakefile to a digest and write Drakefile.lock, for `run --locked` and `package --locked`'
            cand package 'Package a job as a reproducible OCI image: its base image, its dependencies and its source, with its command; written to an OCI layout, a Docker archive, a registry or the local engine'
            cand verify 'Check a package: every blob''s digest and size, the manifest and config against each other, and its labels against the Drakefile'
            cand manifests 'Print the Kubernetes objects that would run jobs or a pipeline on a cluster, as multi-document YAML, without contacting any cluster'
            cand completions 'Print the completion script of a shell (bash, zsh, fish, powershell or elvish), for the shell to load'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'eider;help;validate'= {
        }
        &'eider;help;list'= {
        }
        &'eider;help;init'= {
        }
        &'eider;help;schema'= {
        }
        &'eider;help;upgrade'= {
        }
        &'eider;help;run'= {
        }
        &'eider;help;graph'= {
        }
        &'eider;help;clean'= {
        }
        &'eider;help;lock'= {
        }
        &'eider;help;package'= {
        }
        &'eider;help;verify'= {
        }
        &'eider;help;manifests'= {
        }
        &'eider;help;completions'= {
        }
        &'eider;help;help'= {
        }
    ]
    $completions[$command]
}
