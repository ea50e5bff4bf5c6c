//! `[[output.reports]]` checked into the engine's [`ReportSpec`]s, once the length of the
//! run is known (an experiment's protocol decides it).

use engram_core::FieldError;
use engram_core::memory::{MemoryEstimate, MemoryLimit};
use engram_core::number::short;
use engram_network::{NetworkSpec, ReportSpec, StateVariable};

use crate::schema::{ConfigFile, NeuronSelect, ReportConfig, ReportNeurons};

/// The steps in `t_ms`, which must be a finite multiple of `dt_ms` (within rounding).
fn steps_of(t_ms: f64, dt_ms: f64) -> Option<u64> {
    if !t_ms.is_finite() || t_ms < 0.0 {
        return None;
    }
    let steps = (t_ms / dt_ms).round();
    let exact = (steps * dt_ms - t_ms).abs() <= 1e-9 * t_ms.max(dt_ms);
    (exact && steps <= engram_core::time::MAX_STEPS as f64).then_some(steps as u64)
}

/// The reports of `c` for a run of `steps` steps of `spec`; refuses one whose samples
/// alone would not fit in `memory`.
pub(crate) fn reports_of(
    c: &ConfigFile,
    spec: &NetworkSpec,
    steps: u64,
    memory: Option<&MemoryLimit>,
) -> Result<Vec<ReportSpec>, FieldError> {
    let mut out = Vec::new();
    for (k, r) in c.output.reports.iter().enumerate() {
        out.extend(report_of(
            r,
            &format!("output.reports.{k}"),
            spec,
            steps,
            memory,
        )?);
    }
    Ok(out)
}

fn report_of(
    r: &ReportConfig,
    at: &str,
    spec: &NetworkSpec,
    steps: u64,
    memory: Option<&MemoryLimit>,
) -> Result<Vec<ReportSpec>, FieldError> {
    let field = |f: &str| format!("{at}.{f}");
    let dt = spec.dt_ms;
    let end_ms = steps as f64 * dt;
    let population = spec.population_index(&r.population).ok_or_else(|| {
        let names: Vec<&str> = spec.populations.iter().map(|p| p.name.as_str()).collect();
        (
            field("population"),
            format!(
                "no population called `{}`; the populations are {}",
                r.population,
                names.join(", ")
            ),
        )
    })?;
    let n = spec.populations[population].n;

    let allowed = || {
        StateVariable::ALL
            .iter()
            .map(|v| v.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if r.variables.is_empty() {
        return Err(FieldError::new(
            field("variables"),
            format!("lists no variable; give one or more of {}", allowed()),
        ));
    }
    let mut variables = Vec::new();
    for (j, name) in r.variables.iter().enumerate() {
        let v = StateVariable::from_name(name).ok_or_else(|| {
            (
                field(&format!("variables.{j}")),
                format!("unknown variable `{name}`; the variables are {}", allowed()),
            )
        })?;
        if variables.contains(&v) {
            return Err(FieldError::new(
                field(&format!("variables.{j}")),
                format!("`{name}` is listed twice"),
            ));
        }
        variables.push(v);
    }

    let multiple = |f: &str, t: f64| {
        steps_of(t, dt).ok_or_else(|| {
            (
                field(f),
                format!(
                    "{} ms must be a multiple of simulation.dt_ms = {} ms, >= 0",
                    short(t),
                    short(dt)
                ),
            )
        })
    };
    let interval_steps = match r.interval_ms {
        None => 1,
        Some(t) => match multiple("interval_ms", t)? {
            0 => {
                return Err(FieldError::new(
                    field("interval_ms"),
                    format!(
                        "{} ms must be a positive multiple of simulation.dt_ms = {} ms",
                        short(t),
                        short(dt)
                    ),
                ));
            }
            s => s,
        },
    };
    let start_step = r.start_ms.map_or(Ok(0), |t| multiple("start_ms", t))?;
    let stop_step = match r.stop_ms {
        None => steps,
        Some(t) => {
            let s = multiple("stop_ms", t)?;
            if s > steps {
                return Err(FieldError::new(
                    field("stop_ms"),
                    format!(
                        "{} ms is after the end of the run at {} ms",
                        short(t),
                        short(end_ms)
                    ),
                ));
            }
            s
        }
    };
    if start_step >= stop_step {
        return Err(FieldError::new(
            field("start_ms"),
            format!(
                "{} ms must be before the stop at {} ms",
                short(start_step as f64 * dt),
                short(stop_step as f64 * dt)
            ),
        ));
    }

    // The neurons: counted first, so that a report too large for the memory is refused
    // before its list is built.
    let count = match &r.neurons {
        None | Some(ReportNeurons::Select(NeuronSelect::All)) => u64::from(n),
        Some(ReportNeurons::Select(NeuronSelect::List(l))) => {
            if let Some(&i) = l.iter().find(|&&i| i >= n) {
                return Err(FieldError::new(
                    field("neurons"),
                    format!(
                        "neuron {i} is outside the population `{}` of {n}",
                        r.population
                    ),
                ));
            }
            l.len() as u64
        }
        Some(ReportNeurons::Select(NeuronSelect::Range(a, b))) => {
            if a >= b || *b > n {
                return Err(FieldError::new(
                    field("neurons"),
                    format!(
                        "range [{a}, {b}) must satisfy first < end <= {n} (the population size)"
                    ),
                ));
            }
            u64::from(b - a)
        }
        Some(ReportNeurons::Fraction(f)) => {
            if !(f.is_finite() && *f > 0.0 && *f <= 1.0) {
                return Err(FieldError::new(
                    field("neurons.fraction"),
                    format!("{} must be in (0, 1]", short(*f)),
                ));
            }
            (f * f64::from(n)).ceil() as u64
        }
    };
    if count == 0 {
        return Err(FieldError::new(field("neurons"), "selects no neuron"));
    }
    let mut report = ReportSpec {
        population,
        variable: variables[0],
        neurons: Vec::new(),
        interval_steps,
        start_step,
        stop_step,
    };
    let rows = report.samples_in(1, steps);
    if rows == 0 {
        return Err(FieldError::new(
            field("interval_ms"),
            format!(
                "{} ms gives no sample in ({}, {}] ms",
                short(interval_steps as f64 * dt),
                short(start_step as f64 * dt),
                short(stop_step as f64 * dt)
            ),
        ));
    }
    let mut need = MemoryEstimate::new();
    need.add(
        "state reports",
        rows as f64 * count as f64 * variables.len() as f64 * 8.0,
    );
    need.check(memory)
        .map_err(|e| FieldError::memory(at, format!("this report {e}")))?;
    report.neurons = match &r.neurons {
        None | Some(ReportNeurons::Select(NeuronSelect::All)) => (0..n).collect(),
        Some(ReportNeurons::Select(NeuronSelect::List(l))) => {
            let mut l = l.clone();
            l.sort_unstable();
            l.dedup();
            l
        }
        Some(ReportNeurons::Select(NeuronSelect::Range(a, b))) => (*a..*b).collect(),
        // `count` ids evenly spaced from 0: floor(j n / count), distinct as count <= n.
        Some(ReportNeurons::Fraction(_)) => (0..count)
            .map(|j| (j * u64::from(n) / count) as u32)
            .collect(),
    };
    Ok(variables
        .into_iter()
        .map(|variable| ReportSpec {
            variable,
            ..report.clone()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use engram_network::StateVariable;

    fn lowered(reports: &str) -> crate::Model {
        let text = format!(
            "[simulation]\nduration_ms = 100.0\n\n[populations.A]\nn = 5\n\n\
             [populations.B]\nn = 95\n\n{reports}"
        );
        crate::from_text(Path::new("r.toml"), &text, &[], None).unwrap()
    }

    #[test]
    fn a_report_becomes_one_spec_per_variable_in_steps() {
        let m = lowered(
            "[[output.reports]]\npopulation = \"B\"\nvariables = [\"theta\", \"v\"]\n\
             neurons = [7, 3, 7, 0]\ninterval_ms = 0.5\nstart_ms = 10.0\nstop_ms = 20.0\n",
        );
        let vars: Vec<StateVariable> = m.reports.iter().map(|r| r.variable).collect();
        assert_eq!(
            vars,
            [StateVariable::Theta, StateVariable::V],
            "listed order"
        );
        let r = &m.reports[0];
        assert_eq!(r.population, 1);
        assert_eq!(r.neurons, [0, 3, 7], "sorted, duplicates dropped");
        assert_eq!((r.interval_steps, r.start_step, r.stop_step), (5, 100, 200));
        assert_eq!(r.samples_in(1, m.steps), 20, "10.5, 11, ..., 20 ms");
    }

    #[test]
    fn a_fraction_takes_evenly_spaced_neurons_and_defaults_cover_the_run() {
        let m = lowered(
            "[[output.reports]]\npopulation = \"B\"\nvariables = [\"v\"]\n\
             neurons = { fraction = 0.1 }\n\n\
             [[output.reports]]\npopulation = \"A\"\nvariables = [\"bap\"]\n",
        );
        // ceil(0.1 * 95) = 10 neurons: floor(j * 95 / 10).
        assert_eq!(m.reports[0].neurons, [0, 9, 19, 28, 38, 47, 57, 66, 76, 85]);
        let a = &m.reports[1];
        assert_eq!(a.neurons, [0, 1, 2, 3, 4], "all by default");
        assert_eq!((a.interval_steps, a.start_step, a.stop_step), (1, 0, 1000));
        // Counted in the memory estimate: 1000 samples of 5 neurons, 10 of 10 neurons.
        let est = m.memory_estimate(1);
        let part = est
            .parts()
            .iter()
            .find(|(p, _)| p == "state reports")
            .unwrap();
        assert_eq!(part.1, (1000.0 * 5.0 + 1000.0 * 10.0) * 8.0);
    }
}
