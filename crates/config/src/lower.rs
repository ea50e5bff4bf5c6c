//! Lowering a typed config into what the library crates run: the network spec, the step
//! count, the recorded populations and the acetylcholine kinetics, with every check that
//! the parts alone cannot make.

use std::sync::Arc;

use engram_core::FieldError;
use engram_core::memory::{MemoryEstimate, MemoryLimit};
use engram_core::number::short;
use engram_network::{
    GapSpec, InputKind, InputSpec, JunctionKind, NetworkSpec, PlasticityRule, PlasticitySpec,
    PopulationSpec, ProjectionSpec, ValueDist,
};
use engram_neuron::{ModelError, ModelParams, ParamError};
use indexmap::IndexMap;

use crate::schema::{
    AchConfig, ConfigFile, EffectConfig, GapConfig, InputConfig, JunctionKindConfig, NeuronSelect,
    PlasticityConfig,
};
use crate::spike_files::{self, SpikeFile};

/// The neuron model of a population whose config names none.
const DEFAULT_MODEL: &str = "lif_exp";

/// The field a pulse error names: a pulse past the user's `n_user` ones was added by the
/// protocol, so its error names the experiment's `ach_pulse` table.
pub(crate) fn protocol_pulse_path(path: &str, n_user: usize) -> String {
    let protocol = path
        .strip_prefix("ach.pulses[")
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(k, field)| Some((k.parse::<usize>().ok()?, field)));
    match protocol {
        Some((k, field)) if k >= n_user => format!("experiment.ach_pulse{field}"),
        _ => path.to_string(),
    }
}

/// Checks the `[ach]` table into kinetics parameters and a modulator.
pub(crate) fn ach_of(
    a: &AchConfig,
    spec: &NetworkSpec,
    duration_ms: f64,
) -> Result<
    (
        engram_cholinergic::ValidAchParams,
        engram_cholinergic::Modulator,
    ),
    Invalid,
> {
    use engram_cholinergic::{AchParams, AchPulse, Effect, EffectParams, HillCurve};
    let params = AchParams {
        tonic: a.tonic,
        tau_ach_ms: a.tau_ach_ms,
        pulses: a
            .pulses
            .iter()
            .map(|p| AchPulse {
                time_ms: p.time_ms,
                amplitude: p.amplitude,
                duration_ms: p.duration_ms,
            })
            .collect(),
    };
    let ach_err = |e: engram_cholinergic::AchError| {
        (
            format!("ach.{}", e.field),
            format!("{}: {}", short(e.value), e.allowed),
        )
    };
    let valid = params.checked().map_err(ach_err)?;
    valid.validate_within(duration_ms).map_err(|e| {
        (
            format!("ach.{}", e.field),
            format!("{}: {}", short(e.value), e.allowed),
        )
    })?;
    let effect = |name: &str, c: &Option<EffectConfig>| -> Result<Option<Effect>, Invalid> {
        let Some(c) = c else { return Ok(None) };
        let populations = match &c.populations {
            None => None,
            Some(list) => Some(
                list.iter()
                    .enumerate()
                    .map(|(k, p)| {
                        spec.population_index(p).ok_or_else(|| {
                            (
                                format!("ach.effects.{name}.populations.{k}"),
                                format!("no population called `{p}`"),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        Ok(Some(Effect {
            curve: HillCurve {
                min: c.min,
                max: c.max,
                k: c.k,
                hill: c.hill,
            },
            populations,
        }))
    };
    let e = &a.effects;
    let effects = EffectParams {
        bap_gain: effect("bap_gain", &e.bap_gain)?,
        gap_gain: effect("gap_gain", &e.gap_gain)?,
        forward_gain: effect("forward_gain", &e.forward_gain)?,
        plasticity_rate: effect("plasticity_rate", &e.plasticity_rate)?,
        threshold_shift_mv: effect("threshold_shift_mv", &e.threshold_shift_mv)?,
        adaptation_gain: effect("adaptation_gain", &e.adaptation_gain)?,
    };
    let modulator = effects.checked().map_err(ach_err)?;
    Ok((valid, modulator))
}

pub(crate) type Invalid = (String, String);

/// The kind and the conductance per unit weight of a gap config, or the field (under
/// `gap.`) that is missing or meaningless for its kind: junctions take `kappa_ns`,
/// feedback synapses `weight_pa`.
fn gap_kind(g: &GapConfig) -> Result<(JunctionKind, f64), Invalid> {
    let field = |f: &str| f.to_string();
    match (g.kind, g.kappa_ns, g.weight_pa) {
        (JunctionKindConfig::Feedback, None, Some(weight_pa)) => {
            Ok((JunctionKind::Feedback { weight_pa }, 0.0))
        }
        (JunctionKindConfig::Feedback, Some(_), _) => Err((
            field("kappa_ns"),
            "meaningless for kind \"feedback\" (a feedback synapse carries a current jump, \
             not a conductance): remove it and give weight_pa"
                .into(),
        )),
        (JunctionKindConfig::Feedback, None, None) => Err((
            field("weight_pa"),
            "missing: kind \"feedback\" needs the current jump per unit weight (pA)".into(),
        )),
        (k, _, Some(_)) => Err((
            field("weight_pa"),
            format!(
                "meaningless for kind \"{}\" (a junction has a conductance, kappa_ns); \
                 remove it, or use kind = \"feedback\"",
                junction_name(k)
            ),
        )),
        (k, None, None) => Err((
            field("kappa_ns"),
            format!(
                "missing: kind \"{}\" needs the conductance per unit weight (nS)",
                junction_name(k)
            ),
        )),
        (JunctionKindConfig::Rectifying, Some(kappa), None) => {
            Ok((JunctionKind::Rectifying, kappa))
        }
        (JunctionKindConfig::Ohmic, Some(kappa), None) => Ok((JunctionKind::Ohmic, kappa)),
    }
}

/// A junction kind's name in configs.
fn junction_name(k: JunctionKindConfig) -> &'static str {
    match k {
        JunctionKindConfig::Rectifying => "rectifying",
        JunctionKindConfig::Ohmic => "ohmic",
        JunctionKindConfig::Feedback => "feedback",
    }
}

/// Refuses inputs whose target lists (4 bytes per target) alone exceed `memory`, before
/// they are allocated.
pub(crate) fn input_lists_fit(
    c: &ConfigFile,
    memory: Option<&MemoryLimit>,
) -> Result<(), FieldError> {
    let mut need = MemoryEstimate::new();
    for i in c.inputs.values() {
        let n = c
            .populations
            .get(i.target())
            .and_then(|p| p.n)
            .map_or(0.0, f64::from);
        let targets = match i.neurons() {
            None | Some(NeuronSelect::All) => n,
            Some(NeuronSelect::List(l)) => l.len() as f64,
            Some(NeuronSelect::Range(a, b)) => f64::from(b.saturating_sub(*a)),
        };
        need.add("input target lists", targets * 4.0);
    }
    need.check(memory)
        .map_err(|e| FieldError::memory("inputs", format!("their target lists alone {e}")))
}

/// The network spec, step count and recorded populations of `c`. The inputs' target lists
/// are checked against the memory limit first (a refusal is a [`FieldError`] of kind
/// memory), before they are built.
pub(crate) fn to_spec(
    c: &ConfigFile,
    memory: Option<&MemoryLimit>,
    files: &IndexMap<String, SpikeFile>,
) -> Result<(NetworkSpec, u64, Vec<usize>), FieldError> {
    input_lists_fit(c, memory)?;
    lower_spec(c, files).map_err(FieldError::from)
}

/// `c` lowered, with the spike files of its `spike_file` inputs (by input name) already
/// read.
fn lower_spec(
    c: &ConfigFile,
    files: &IndexMap<String, SpikeFile>,
) -> Result<(NetworkSpec, u64, Vec<usize>), Invalid> {
    let s = &c.simulation;
    if !(s.dt_ms.is_finite() && s.dt_ms > 0.0) {
        return Err((
            "simulation.dt_ms".into(),
            format!("{} must be a number > 0", short(s.dt_ms)),
        ));
    }
    let steps = engram_core::time::checked_steps(s.duration_ms, s.dt_ms)
        .map_err(|m| ("simulation.duration_ms".to_string(), m))?;
    if steps == 0 && c.experiment.is_none() {
        return Err((
            "simulation.duration_ms".into(),
            format!(
                "{} ms gives no step of dt = {} ms; a run lasts at least one step",
                short(s.duration_ms),
                short(s.dt_ms)
            ),
        ));
    }
    if c.populations.is_empty() {
        return Err((
            "populations".into(),
            "at least one population is needed, e.g. [populations.E] n = 100".into(),
        ));
    }
    let names: Vec<&str> = c.populations.keys().map(String::as_str).collect();
    let pop_index = |field: String, name: &str| -> Result<usize, Invalid> {
        names.iter().position(|n| *n == name).ok_or_else(|| {
            (
                field,
                format!(
                    "no population called `{name}`; populations are: {}",
                    names.join(", ")
                ),
            )
        })
    };
    let mut populations = Vec::new();
    for (name, p) in &c.populations {
        let merged = p.neuron.over(&c.neuron);
        let at = |field: &str| {
            if p.neuron.is_set(field) {
                format!("populations.{name}.neuron.{field}")
            } else {
                format!("neuron.{field}")
            }
        };
        let param_error =
            |e: ParamError| (at(e.field), format!("{}: {}", short(e.value), e.allowed));
        let model = merged.model.as_deref().unwrap_or(DEFAULT_MODEL);
        let fields = merged.params.iter().map(|(k, v)| (k.as_str(), *v));
        let params = ModelParams::from_fields(model, fields).map_err(|e| match e {
            ModelError::UnknownModel { .. } => (at("model"), e.to_string()),
            ModelError::UnknownField { ref field, .. } => (at(field), e.to_string()),
            ModelError::Param(e) => param_error(e),
        })?;
        // The same check the build makes (e.g. a refractory period of too many steps), so
        // that `engram check` rejects what `engram run` would.
        params.for_dt(s.dt_ms).map_err(param_error)?;
        let v_init = match merged.v_init_mv {
            Some(d) => d.0,
            None => ValueDist::Constant(params.rest_mv()),
        };
        populations.push(PopulationSpec {
            name: name.clone(),
            n: p.n.ok_or_else(|| {
                (
                    format!("populations.{name}.n"),
                    "missing: give the number of neurons".to_string(),
                )
            })?,
            params,
            v_init_mv: v_init,
            shape: p.shape,
        });
    }
    let mut projections = Vec::new();
    for (name, p) in &c.projections {
        let at = |f: &str| format!("projections.{name}.{f}");
        let source = pop_index(at("source"), &p.source)?;
        let scale = match p.weight_scale_reference_n {
            None => 1.0,
            Some(r) if r.is_finite() && r > 0.0 => (r / f64::from(populations[source].n)).sqrt(),
            Some(r) => {
                return Err((
                    at("weight_scale_reference_n"),
                    format!("{}: must be a finite number > 0", short(r)),
                ));
            }
        };
        let scale_unit = |u: f64| if scale == 1.0 { u } else { u * scale };
        projections.push(ProjectionSpec {
            name: name.clone(),
            source,
            target: pop_index(at("target"), &p.target)?,
            rule: p.connectivity.rule(),
            weight_pa: if scale == 1.0 {
                p.weight_pa.0
            } else {
                p.weight_pa.0.scaled(scale)
            },
            delay_ms: p.delay_ms.0,
            gap: None,
            plasticity: None,
        });
        let proj = projections.last_mut().expect("just pushed");
        let largest = proj.weight_pa.bounds().1;
        let plastic_unit = p.plasticity.map(|pl| match pl {
            PlasticityConfig::SoftBounded { weight_unit_pa, .. }
            | PlasticityConfig::PairTrace { weight_unit_pa, .. } => {
                weight_unit_pa.map_or(largest, scale_unit)
            }
        });
        if let Some(pl) = p.plasticity {
            let weight_unit_pa = plastic_unit.unwrap_or(1.0);
            if weight_unit_pa.is_nan() || weight_unit_pa <= 0.0 {
                return Err((
                    at("plasticity.weight_unit_pa"),
                    format!(
                        "{weight_unit_pa} must be > 0 (by default it is the largest initial weight)"
                    ),
                ));
            }
            let (rule, normalize) = match pl {
                PlasticityConfig::SoftBounded {
                    eta_plus,
                    eta_minus,
                    window_ms,
                    normalize,
                    ..
                } => (
                    PlasticityRule::SoftBounded {
                        eta_plus,
                        eta_minus,
                        window_ms,
                    },
                    normalize,
                ),
                PlasticityConfig::PairTrace {
                    a_plus,
                    a_minus,
                    tau_plus_ms,
                    tau_minus_ms,
                    normalize,
                    ..
                } => (
                    PlasticityRule::PairTrace {
                        a_plus,
                        a_minus,
                        tau_plus_ms,
                        tau_minus_ms,
                    },
                    normalize,
                ),
            };
            proj.plasticity = Some(PlasticitySpec {
                rule,
                weight_unit_pa,
                normalize,
            });
        }
        if let Some(g) = p.gap {
            let (kind, kappa_ns) = gap_kind(&g).map_err(|(f, m)| (at(&format!("gap.{f}")), m))?;
            proj.gap = Some(GapSpec {
                kappa_ns,
                weight_unit_pa: g
                    .weight_unit_pa
                    .map(scale_unit)
                    .or(plastic_unit)
                    .unwrap_or(1.0),
                kind,
                delay_ms: g.delay_ms.unwrap_or(s.dt_ms),
                c0: g.c0,
                tag_window_ms: g.tag_window_ms,
                tau_tag_ms: g.tau_tag_ms,
                tau_g_ms: g.tau_g_ms,
                dendrite_pf: g.dendrite_pf,
            });
        }
    }
    let mut inputs = Vec::new();
    for (name, i) in &c.inputs {
        let at = |f: &str| format!("inputs.{name}.{f}");
        let target = pop_index(at("target"), i.target())?;
        let n = c.populations[target].n.unwrap_or(0);
        let mut neurons = match i.neurons() {
            None | Some(NeuronSelect::All) => (0..n).collect(),
            Some(NeuronSelect::List(l)) => {
                let mut l = l.clone();
                l.sort_unstable();
                l.dedup();
                l
            }
            Some(NeuronSelect::Range(a, b)) => {
                if a > b || *b > n {
                    return Err((
                        at("neurons"),
                        format!(
                            "range [{a}, {b}) must satisfy first <= end <= {n} (the population size)"
                        ),
                    ));
                }
                (*a..*b).collect()
            }
        };
        // An input without a stop lasts to the end of the run, whatever decides that end
        // (`simulation.duration_ms` or an experiment's protocol, built after this).
        let end = f64::INFINITY;
        let kind = match i {
            InputConfig::Poisson {
                rate_hz,
                weight_pa,
                start_ms,
                stop_ms,
                ..
            } => InputKind::Poisson {
                rate_hz: *rate_hz,
                weight_pa: *weight_pa,
                start_ms: *start_ms,
                stop_ms: stop_ms.unwrap_or(end),
            },
            InputConfig::SpikeTimes {
                times_ms,
                weight_pa,
                delay_ms,
                ..
            } => InputKind::SpikeTimes {
                times_ms: times_ms.clone(),
                weight_pa: *weight_pa,
                delay_ms: *delay_ms,
            },
            InputConfig::SpikeFile {
                map,
                weight_pa,
                delay_ms,
                ..
            } => {
                let file = files.get(name).ok_or_else(|| {
                    (
                        at("path"),
                        "the file was not read (an internal error)".into(),
                    )
                })?;
                let pop = names[target];
                let (targets, trains) = spike_files::trains_of(name, file, n, pop, map.as_deref())?;
                neurons = targets;
                InputKind::SpikeTrains {
                    trains: Arc::new(trains),
                    weight_pa: *weight_pa,
                    delay_ms: *delay_ms,
                }
            }
            InputConfig::Dc {
                amplitude_pa,
                start_ms,
                stop_ms,
                ..
            } => InputKind::Dc {
                amplitude_pa: *amplitude_pa,
                start_ms: *start_ms,
                stop_ms: stop_ms.unwrap_or(end),
            },
            InputConfig::NoiseCurrent {
                mean_pa,
                std_pa,
                dt_ms,
                start_ms,
                stop_ms,
                ..
            } => InputKind::NoiseCurrent {
                mean_pa: *mean_pa,
                std_pa: *std_pa,
                dt_ms: *dt_ms,
                start_ms: *start_ms,
                stop_ms: stop_ms.unwrap_or(end),
            },
            InputConfig::StepCurrent {
                times_ms,
                amplitudes_pa,
                ..
            } => InputKind::StepCurrent {
                times_ms: times_ms.clone(),
                amplitudes_pa: amplitudes_pa.clone(),
            },
        };
        inputs.push(InputSpec {
            name: name.clone(),
            target,
            neurons,
            kind,
        });
    }
    if c.output.compression_level() > 9 {
        return Err((
            "output.compression_level".into(),
            format!(
                "{} is not a compression level; give 0 (none) or a deflate level from 1 \
                 (fastest) to 9 (smallest)",
                c.output.compression_level()
            ),
        ));
    }
    let record = match &c.output.record {
        None => (0..populations.len()).collect(),
        Some(list) => list
            .iter()
            .enumerate()
            .map(|(k, name)| pop_index(format!("output.record.{k}"), name))
            .collect::<Result<Vec<_>, _>>()?,
    };
    let spec = NetworkSpec {
        dt_ms: s.dt_ms,
        populations,
        projections,
        inputs,
    };
    Ok((spec, steps, record))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use engram_network::{InputKind, JunctionKind};

    /// The small recall experiment of the tests with a background Poisson input that
    /// gives no stop.
    fn recall_with_background() -> crate::Model {
        let base = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/configs/small_recall.toml"),
        )
        .unwrap();
        let text = format!(
            "{base}\n[inputs.background]\nkind = \"poisson\"\ntarget = \"sensory\"\n\
             rate_hz = 5.0\nweight_pa = 10.0\n"
        );
        crate::from_text(Path::new("small_recall.toml"), &text, &[], None).unwrap()
    }

    #[test]
    fn an_input_without_a_stop_lasts_through_the_whole_protocol() {
        let model = recall_with_background();
        // The protocol is longer than the default `simulation.duration_ms` (1000 ms)...
        let end_ms = model.steps as f64 * model.spec.dt_ms;
        assert!(end_ms > 1000.0, "protocol of {end_ms} ms");
        // ...and the background input is on until the end of it.
        let bg = model
            .spec
            .inputs
            .iter()
            .find(|i| i.name == "background")
            .unwrap();
        match bg.kind {
            InputKind::Poisson { stop_ms, .. } => assert!(stop_ms >= end_ms, "{stop_ms}"),
            ref other => panic!("{other:?}"),
        }
    }

    /// The small recall experiment with `sets` (`--set` edits).
    fn small_recall_with(sets: &[&str]) -> Result<crate::Model, crate::ConfigError> {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/configs/small_recall.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        crate::from_text(Path::new("small_recall.toml"), &text, &sets, None)
    }

    fn plan(model: &crate::Model) -> &engram_experiments::recall::Protocol {
        match model.experiment.as_ref().unwrap() {
            engram_experiments::Plan::Recall(p) => p,
        }
    }

    #[test]
    fn pointer_cues_are_the_default_and_add_no_inputs() {
        let default = small_recall_with(&[]).unwrap();
        let pointer = small_recall_with(&["experiment.cue.kind=\"pointer\""]).unwrap();
        assert_eq!(default.spec.inputs, pointer.spec.inputs);
        assert_eq!(default.steps, pointer.steps);
        assert!(plan(&default).content_cue.is_none());
        let names: Vec<&str> = default
            .spec
            .inputs
            .iter()
            .map(|i| i.name.as_str())
            .collect();
        assert!(names.iter().all(|n| !n.starts_with("content")), "{names:?}");
        // One cue of spikes per memory, into its pointer group.
        for m in 0..4 {
            let cue = default
                .spec
                .inputs
                .iter()
                .find(|i| i.name == format!("cue {m}"));
            let cue = cue.unwrap_or_else(|| panic!("no cue {m} in {names:?}"));
            assert_eq!(cue.neurons, (m * 5..m * 5 + 5).collect::<Vec<u32>>());
        }
    }

    #[test]
    fn content_cues_present_part_of_each_pattern_instead_of_pointer_spikes() {
        let model = small_recall_with(&[
            "experiment.cue.kind=\"content\"",
            "experiment.cue.content_fraction=0.4",
            "experiment.cue.content_ms=10.0",
        ])
        .unwrap();
        let p = plan(&model);
        let c = p.content_cue.as_ref().expect("content cues");
        let names: Vec<&str> = model.spec.inputs.iter().map(|i| i.name.as_str()).collect();
        assert!(names.iter().all(|n| !n.starts_with("cue ")), "{names:?}");
        for m in 0..4 {
            let pattern = p.stimuli.patterns[m].active();
            assert_eq!(c.cells[m].len(), 4, "0.4 of 10 active cells");
            let input = model
                .spec
                .inputs
                .iter()
                .find(|i| i.name == format!("content cue {m} rate 0"))
                .unwrap_or_else(|| panic!("no content cue {m} in {names:?}"));
            let cells: Vec<usize> = input.neurons.iter().map(|&n| n as usize).collect();
            assert_eq!(cells, c.cells[m]);
            assert!(cells.iter().all(|i| pattern.contains(i)));
            match input.kind {
                InputKind::Poisson {
                    start_ms, stop_ms, ..
                } => {
                    assert!((start_ms - p.cue_ms[m]).abs() < 1e-9, "{start_ms}");
                    assert!((stop_ms - start_ms - 10.0).abs() < 1e-9, "{stop_ms}");
                }
                ref other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn content_cue_fields_are_checked_with_their_path() {
        for (sets, path, words) in [
            (
                &["experiment.cue.content_fraction=1.5"][..],
                "experiment.cue.content_fraction",
                "must be in (0, 1]",
            ),
            (
                &["experiment.cue.content_ms=0.0"][..],
                "experiment.cue.content_ms",
                "must be a number > 0",
            ),
            (
                &["experiment.cue.content_ms=59.0"][..],
                "experiment.cue.content_ms",
                "recall_ms - lead_ms = 58 ms",
            ),
        ] {
            let mut all = vec!["experiment.cue.kind=\"content\""];
            all.extend_from_slice(sets);
            let e = small_recall_with(&all).unwrap_err();
            assert_eq!(e.path, path, "{e}");
            assert!(e.to_string().contains(words), "{e}");
        }
        // Pointer cues leave the content fields alone.
        small_recall_with(&["experiment.cue.content_fraction=1.5"]).unwrap();
    }

    #[test]
    fn fan_in_scaling_multiplies_every_weight_in_pa_and_the_stimulus_total_rate() {
        use engram_core::ValueDist;
        // sensory has 100 cells: a reference of 400 doubles the weights, 25 halves them.
        let model = small_recall_with(&[
            "projections.sensory_to_cortex.weight_scale_reference_n=400",
            "stimuli.total_rate_hz=1000",
            "stimuli.max_rate_hz=1000",
            "stimuli.total_rate_reference_n=25",
        ])
        .unwrap();
        let p = &model.spec.projections[0];
        assert_eq!(
            p.weight_pa,
            ValueDist::Uniform {
                low: 0.0,
                high: 1800.0
            }
        );
        assert_eq!(p.plasticity.unwrap().weight_unit_pa, 1800.0);
        // The junctions' unit follows, so their conductance per weight unit is unchanged.
        assert_eq!(p.gap.unwrap().weight_unit_pa, 1800.0);
        assert_eq!(p.gap.unwrap().kappa_ns, 40.0);
        // The other projection is not scaled.
        let unscaled = small_recall_with(&[]).unwrap();
        assert_eq!(
            model.spec.projections[1].weight_pa,
            unscaled.spec.projections[1].weight_pa
        );
        // Memory 0's stimulus: 10 active cells sharing 1000 * sqrt(100 / 25) = 2000 Hz.
        let total: f64 = model
            .spec
            .inputs
            .iter()
            .filter(|i| i.name.starts_with("encode 0 "))
            .map(|i| match i.kind {
                InputKind::Poisson { rate_hz, .. } => rate_hz * i.neurons.len() as f64,
                ref other => panic!("{other:?}"),
            })
            .sum();
        assert!((total - 2000.0).abs() < 1e-9, "{total}");
        // An explicit gap unit is scaled too; a reference of 100 (= the source) changes
        // nothing, bit for bit.
        let explicit = small_recall_with(&[
            "projections.sensory_to_cortex.weight_scale_reference_n=25",
            "projections.sensory_to_cortex.gap.weight_unit_pa=300",
        ])
        .unwrap();
        assert_eq!(
            explicit.spec.projections[0].gap.unwrap().weight_unit_pa,
            150.0
        );
        let same =
            small_recall_with(&["projections.sensory_to_cortex.weight_scale_reference_n=100"])
                .unwrap();
        let (a, b) = (&same.spec.projections[0], &unscaled.spec.projections[0]);
        assert_eq!(a.weight_pa, b.weight_pa);
        assert_eq!(a.plasticity, b.plasticity);
        assert_eq!(a.gap, b.gap);
    }

    /// The small recall experiment with the sensory -> cortex gap table replaced by `gap`.
    fn small_recall_with_gap(gap: &str) -> Result<crate::Model, crate::ConfigError> {
        let base = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/configs/small_recall.toml"),
        )
        .unwrap();
        let old = "gap = { kappa_ns = 40.0, c0 = 0.0 }";
        assert!(base.contains(old));
        let text = base.replacen(old, &format!("gap = {gap}"), 1);
        crate::from_text(Path::new("small_recall.toml"), &text, &[], None)
    }

    #[test]
    fn feedback_synapses_lower_to_their_kind() {
        let model =
            small_recall_with_gap("{ kind = \"feedback\", weight_pa = 300.0, delay_ms = 1.0 }")
                .unwrap();
        let g = model.spec.projections[0].gap.unwrap();
        assert_eq!(g.kind, JunctionKind::Feedback { weight_pa: 300.0 });
        assert_eq!((g.kappa_ns, g.delay_ms), (0.0, 1.0));
        // The junctions of the other projection are untouched.
        let other = model.spec.projections[1].gap.unwrap();
        assert_eq!(
            (other.kind, other.kappa_ns),
            (JunctionKind::Rectifying, 16.0)
        );
    }

    #[test]
    fn gap_fields_meaningless_for_the_kind_are_refused_with_their_path() {
        for (gap, path, words) in [
            (
                "{ kind = \"feedback\", kappa_ns = 8.0, weight_pa = 300.0 }",
                "projections.sensory_to_cortex.gap.kappa_ns",
                "meaningless for kind \"feedback\"",
            ),
            (
                "{ kind = \"feedback\" }",
                "projections.sensory_to_cortex.gap.weight_pa",
                "missing",
            ),
            (
                "{ kappa_ns = 8.0, weight_pa = 300.0 }",
                "projections.sensory_to_cortex.gap.weight_pa",
                "meaningless for kind \"rectifying\"",
            ),
            (
                "{ kind = \"ohmic\" }",
                "projections.sensory_to_cortex.gap.kappa_ns",
                "missing",
            ),
            (
                "{ kind = \"feedback\", weight_pa = -1.0 }",
                "projections.sensory_to_cortex.gap.weight_pa",
                "must be a number >= 0",
            ),
        ] {
            let err = small_recall_with_gap(gap).unwrap_err();
            assert_eq!(err.path, path, "{gap}: {err}");
            assert!(err.message.contains(words), "{gap}: {err}");
        }
    }
}
