//! Axis titles of the sweep figures: the full name and unit of a config field
//! (`projections.E_to_E.weight_pa` -> `synaptic weight, E → E (pA)`) or of a metric of the
//! run summary (`recall.identification_accuracy` -> `identification accuracy (fraction of
//! memories)`), instead of the dotted path.
//!
//! Known fields and metrics have names of their own; any other path is named from its
//! parts: the unit from the suffix of its last part (`_ms`, `_hz`, `_pa`, `_ns`, `_mv`,
//! `_pf`, `_mb`, `_s`), the words from the rest, and the population, projection or input
//! it belongs to.

/// Units by the suffix of a field or metric name.
const UNITS: [(&str, &str); 8] = [
    ("_ms", "ms"),
    ("_hz", "Hz"),
    ("_pa", "pA"),
    ("_ns", "nS"),
    ("_mv", "mV"),
    ("_pf", "pF"),
    ("_mb", "MB"),
    ("_s", "s"),
];

/// The words and unit of a name part: `weight_pa` -> (`weight`, `pA`).
fn split_unit(part: &str) -> (String, Option<&'static str>) {
    for (suffix, unit) in UNITS {
        if let Some(stem) = part.strip_suffix(suffix) {
            if !stem.is_empty() {
                return (stem.replace('_', " "), Some(unit));
            }
        }
    }
    (part.replace('_', " "), None)
}

/// A projection's name as an arrow where it reads `A_to_B`.
fn projection(name: &str) -> String {
    match name.split_once("_to_") {
        Some((a, b)) if !a.is_empty() && !b.is_empty() => format!("{a} → {b}"),
        _ => name.to_owned(),
    }
}

fn with_unit(text: String, unit: Option<&str>) -> String {
    match unit {
        Some(u) => format!("{text} ({u})"),
        None => text,
    }
}

/// The name of a config field, its owner apart: (what, owner, unit).
fn field_parts(path: &str) -> (String, Option<String>, Option<&'static str>) {
    let parts: Vec<&str> = path.split('.').collect();
    let leaf = *parts.last().unwrap_or(&path);
    let (words, unit) = split_unit(leaf);
    // The fields whose names say little on their own.
    let named = match leaf {
        "weight_pa" => Some("synaptic weight"),
        "kappa_ns" => Some("gap-junction coupling"),
        "dendrite_pf" => Some("dendrite capacitance"),
        "p" if parts.contains(&"connectivity") => Some("connection probability"),
        "n" if parts.first() == Some(&"populations") => Some("neurons"),
        "rate_hz" if parts.first() == Some(&"inputs") => Some("input rate"),
        "memories" => Some("stored memories"),
        "content_fraction" => Some("content cue: fraction of the pattern presented"),
        "fraction" if parts.contains(&"cue") => Some("cue: fraction of the pointer group"),
        "amplitude" if parts.iter().any(|p| p.starts_with("ach")) => Some("ACh pulse amplitude"),
        "seed" => Some("seed"),
        _ => None,
    };
    let what = named.map_or(words, str::to_owned);
    // ACh has no unit (arbitrary units, 1 = a strong pulse).
    let unit = if leaf == "amplitude" && parts.iter().any(|p| p.starts_with("ach")) {
        Some("a.u.")
    } else {
        unit
    };
    let owner = match parts.as_slice() {
        ["populations", name, ..] | ["inputs", name, ..] if parts.len() > 2 => {
            Some((*name).to_owned())
        }
        ["projections", name, ..] if parts.len() > 2 => Some(projection(name)),
        _ => None,
    };
    (what, owner, unit)
}

/// The full name and unit of a config field, for an axis title.
pub fn field(path: &str) -> String {
    let (what, owner, unit) = field_parts(path);
    let text = match owner {
        Some(o) => format!("{what}, {o}"),
        None => what,
    };
    with_unit(text, unit)
}

/// The title of an axis that sets several fields together (a `[zip]` group): the fields
/// named once when they differ only in their owner (`gap-junction coupling, sensory →
/// cortex and cortex → mtl (nS)`), else the first with the count of the others. `same`:
/// whether every field takes the same value at every step (else the axis shows the
/// first field's values, and the title says so).
pub fn fields(paths: &[String], same: bool) -> String {
    match paths {
        [] => String::new(),
        [one] => field(one),
        [first, rest @ ..] => {
            let (what, _, unit) = field_parts(first);
            let parts: Vec<_> = paths.iter().map(|p| field_parts(p)).collect();
            let alike = parts
                .iter()
                .all(|(w, o, u)| *w == what && *u == unit && o.is_some());
            if alike && same {
                let owners: Vec<String> = parts.into_iter().filter_map(|(_, o, _)| o).collect();
                let (last, init) = owners.split_last().expect("two or more");
                with_unit(format!("{what}, {} and {last}", init.join(", ")), unit)
            } else {
                let n = rest.len();
                format!(
                    "{} (with {n} more field{} set along)",
                    field(first),
                    if n == 1 { "" } else { "s" }
                )
            }
        }
    }
}

/// The full name and unit of a metric of the run summary, for an axis or a colour bar.
pub fn metric(name: &str) -> String {
    let known = match name {
        "rate_hz" => Some("mean firing rate (Hz)"),
        "spikes" => Some("spikes"),
        "syn_events" => Some("synaptic events"),
        "events_per_s" => Some("synaptic events per second"),
        "realtime_factor" => Some("simulated time / wall-clock time"),
        "peak_rss_mb" => Some("peak memory (MB)"),
        "n_neurons" => Some("neurons"),
        "n_synapses" => Some("synapses"),
        "dt_ms" => Some("time step (ms)"),
        "duration_ms" => Some("simulated time (ms)"),
        "recall.identification_accuracy" => Some("identification accuracy (fraction of memories)"),
        "recall.best_match_accuracy" => Some("best fidelity match (fraction of memories)"),
        "recall.identified" => Some("memories identified"),
        "recall.weak" => Some("weak recalls (memories)"),
        "recall.silent" => Some("silent recalls (memories)"),
        "recall.n_memories" => Some("stored memories"),
        "recall.fidelity_mean" => Some("sensory fidelity, mean (Pearson r)"),
        "recall.fidelity_min" => Some("sensory fidelity, minimum (Pearson r)"),
        "recall.fidelity_cosine_mean" => Some("sensory fidelity, mean (cosine)"),
        "recall.specificity_mean" => Some("specificity, mean"),
        "recall.jaccard_mean" => Some("Jaccard index, recalled vs own ensemble"),
        "recall.jaccard_between_memories" => Some("Jaccard index between memories' ensembles"),
        "recall.jaccard_recalled_vs_others" => Some("Jaccard index, recalled vs other ensembles"),
        "recall.jaccard_chance" => Some("Jaccard index of random sets"),
        "naming.accuracy" => Some("naming accuracy (fraction of stimuli)"),
        "content_cue.completion_mean" => {
            Some("pattern completion, mean (fraction of the uncued cells)")
        }
        "content_cue.completion_min" => {
            Some("pattern completion, minimum (fraction of the uncued cells)")
        }
        "content_cue.any_spike_completion_mean" => {
            Some("pattern completion with ≥ 1 spike, mean (fraction of the uncued cells)")
        }
        "content_cue.false_completion_mean" => {
            Some("false completion, mean (fraction of the cells outside the pattern)")
        }
        "content_cue.any_spike_false_completion_mean" => Some(
            "false completion with ≥ 1 spike, mean (fraction of the cells outside the pattern)",
        ),
        "content_cue.cued_fired_mean" => Some("cued cells firing, mean (fraction)"),
        "content_cue.spontaneous_p" => Some("chance of a spontaneous spike in the window"),
        _ => None,
    };
    if let Some(k) = known {
        return k.to_owned();
    }
    let parts: Vec<&str> = name.split('.').collect();
    match parts.as_slice() {
        ["populations", pop, leaf] => {
            let what = match *leaf {
                "rate_hz" => "firing rate (Hz)".to_owned(),
                "n" => "neurons".to_owned(),
                "spikes" => "spikes".to_owned(),
                "recorded" => "neurons recorded".to_owned(),
                other => {
                    let (w, u) = split_unit(other);
                    with_unit(w, u)
                }
            };
            // The unit stays last: "firing rate of E (Hz)".
            match what.split_once(" (") {
                Some((w, u)) => format!("{w} of {pop} ({u}"),
                None => format!("{what} of {pop}"),
            }
        }
        [.., leaf] => {
            let (w, u) = split_unit(leaf);
            let context: Vec<String> = parts[..parts.len() - 1]
                .iter()
                .map(|p| p.replace('_', " "))
                .collect();
            let text = if context.is_empty() {
                w
            } else {
                format!("{w}, {}", context.join(" "))
            };
            with_unit(text, u)
        }
        [] => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_named_with_their_owner_and_unit() {
        assert_eq!(
            field("projections.E_to_E.weight_pa"),
            "synaptic weight, E → E (pA)"
        );
        assert_eq!(
            field("projections.cortex_to_mtl.gap.kappa_ns"),
            "gap-junction coupling, cortex → mtl (nS)"
        );
        assert_eq!(
            field("projections.E_to_E.connectivity.p"),
            "connection probability, E → E"
        );
        assert_eq!(
            field("experiment.ach_pulse.amplitude"),
            "ACh pulse amplitude (a.u.)"
        );
        assert_eq!(
            field("ach.pulses.0.amplitude"),
            "ACh pulse amplitude (a.u.)"
        );
        assert_eq!(
            field("inputs.spontaneous_mtl.rate_hz"),
            "input rate, spontaneous_mtl (Hz)"
        );
        assert_eq!(field("populations.E.n"), "neurons, E");
        assert_eq!(field("experiment.memories"), "stored memories");
        assert_eq!(
            field("experiment.cue.fraction"),
            "cue: fraction of the pointer group"
        );
        assert_eq!(field("simulation.duration_ms"), "duration (ms)");
        assert_eq!(field("neuron.tau_m_ms"), "tau m (ms)");
    }

    #[test]
    fn zipped_fields_are_named_once_when_they_move_together() {
        let kappa = [
            "projections.sensory_to_cortex.gap.kappa_ns".to_string(),
            "projections.cortex_to_mtl.gap.kappa_ns".to_string(),
        ];
        assert_eq!(
            fields(&kappa, true),
            "gap-junction coupling, sensory → cortex and cortex → mtl (nS)"
        );
        assert_eq!(
            fields(&kappa, false),
            "gap-junction coupling, sensory → cortex (nS) (with 1 more field set along)"
        );
        let rates = [
            "inputs.a.rate_hz".to_string(),
            "inputs.b.rate_hz".to_string(),
            "inputs.c.rate_hz".to_string(),
        ];
        assert_eq!(
            fields(&rates, false),
            "input rate, a (Hz) (with 2 more fields set along)"
        );
        assert_eq!(fields(&rates, true), "input rate, a, b and c (Hz)");
    }

    #[test]
    fn metrics_are_named_with_their_unit() {
        assert_eq!(metric("populations.E.rate_hz"), "firing rate of E (Hz)");
        assert_eq!(metric("populations.I.spikes"), "spikes of I");
        assert_eq!(
            metric("recall.identification_accuracy"),
            "identification accuracy (fraction of memories)"
        );
        assert_eq!(
            metric("layers.cortex.latency_ms"),
            "latency, layers cortex (ms)"
        );
        assert_eq!(metric("wall_s"), "wall (s)");
    }
}
