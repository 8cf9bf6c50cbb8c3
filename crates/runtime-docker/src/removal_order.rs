//! The order in which containers are removed: a container that joined another's network
//! namespace (`network_mode: container:<id>`) goes before the one it joined.
//!
//! The Docker Engine removes a container whose namespace others joined (they keep the
//! namespace), but Podman refuses: "container ... has dependent containers which must be
//! removed before it". A job's containers join each other (see `job::launch`), and so may what a
//! sweep finds, so both remove in this order.

use std::collections::HashMap;

use crate::model::ContainerId;

/// Groups containers into waves of removal: the containers of one wave may be removed at once,
/// once every wave before it is gone. `containers` gives each container with the one whose
/// network namespace it joined, if any; the waves hold indices into it. A container that joined
/// one not in `containers` depends on nothing here.
pub(crate) fn removal_waves(
    containers: &[(&ContainerId, Option<&ContainerId>)],
) -> Vec<Vec<usize>> {
    let index: HashMap<&ContainerId, usize> = containers
        .iter()
        .enumerate()
        .map(|(position, (id, _))| (*id, position))
        .collect();
    let joined = |position: usize| {
        containers[position]
            .1
            .and_then(|owner| index.get(owner).copied())
    };
    // How many joins away each container is from the one that owns its namespace: the owner
    // goes last, and each container before the one it joined. The walk is bounded, so that a
    // cycle (which no engine allows) cannot loop.
    let depths: Vec<usize> = (0..containers.len())
        .map(|position| {
            let mut depth = 0;
            let mut current = position;
            while let Some(owner) = joined(current) {
                if depth >= containers.len() {
                    break;
                }
                depth += 1;
                current = owner;
            }
            depth
        })
        .collect();
    let deepest = depths.iter().copied().max().unwrap_or(0);
    (0..=deepest)
        .rev()
        .map(|depth| {
            (0..containers.len())
                .filter(|position| depths[*position] == depth)
                .collect::<Vec<usize>>()
        })
        .filter(|wave| !wave.is_empty())
        .collect()
}

/// The containers in one order that removes each before the one whose namespace it joined.
pub(crate) fn removal_order(containers: &[(&ContainerId, Option<&ContainerId>)]) -> Vec<usize> {
    removal_waves(containers).into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(name: &str) -> ContainerId {
        ContainerId(name.to_owned())
    }

    #[test]
    fn a_chain_of_joins_is_removed_from_its_end_to_the_owner() {
        let (sidecar, second, primary) = (id("sidecar"), id("second"), id("primary"));
        let containers = [
            (&sidecar, None),
            (&second, Some(&sidecar)),
            (&primary, Some(&second)),
        ];
        assert_eq!(removal_waves(&containers), [vec![2], vec![1], vec![0]]);
    }

    #[test]
    fn containers_that_joined_the_same_one_go_together_before_it() {
        let (owner, early, primary) = (id("owner"), id("early"), id("primary"));
        // `early` exited before the primary was launched: both joined `owner`.
        let containers = [
            (&owner, None),
            (&early, Some(&owner)),
            (&primary, Some(&owner)),
        ];
        assert_eq!(removal_waves(&containers), [vec![1, 2], vec![0]]);
    }

    #[test]
    fn unrelated_containers_and_joins_outside_the_set_are_one_wave() {
        let (alone, other, gone) = (id("alone"), id("other"), id("gone"));
        let containers = [(&alone, None), (&other, Some(&gone))];
        assert_eq!(removal_waves(&containers), [vec![0, 1]]);
        assert!(removal_waves(&[]).is_empty());
    }

    #[test]
    fn a_listing_in_any_order_is_removed_joiners_first() {
        let (owner, middle, last) = (id("owner"), id("middle"), id("last"));
        // As an engine may list them: by id, not by creation.
        let containers = [
            (&middle, Some(&owner)),
            (&owner, None),
            (&last, Some(&middle)),
        ];
        assert_eq!(removal_order(&containers), [2, 0, 1]);
    }

    #[test]
    fn a_cycle_ends() {
        let (first, second) = (id("first"), id("second"));
        let containers = [(&first, Some(&second)), (&second, Some(&first))];
        assert_eq!(removal_order(&containers).len(), 2);
    }
}
