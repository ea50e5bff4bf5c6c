//! Criterion benchmarks of the engine: one second of the CUBA network per iteration is
//! too long for criterion, so each iteration runs 100 ms (1000 steps) of a network that
//! was built and warmed up outside the timed closure.

#![allow(missing_docs)] // criterion_group! generates undocumented functions

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use engram_network::connect::FixedProbability;
use engram_network::{
    NetworkSpec, NullSink, PopulationSpec, ProjectionSpec, Simulation, ValueDist,
};
use engram_neuron::LifParams;
use std::sync::Arc;

fn cuba(n: u32) -> NetworkSpec {
    let params = LifParams {
        c_m_pf: 250.0,
        tau_m_ms: 20.0,
        tau_syn_ex_ms: 5.0,
        tau_syn_in_ms: 10.0,
        t_ref_ms: 5.0,
        e_l_mv: -49.0,
        v_th_mv: -50.0,
        v_reset_mv: -60.0,
        ..LifParams::default()
    };
    let ne = n * 4 / 5;
    let mut e = PopulationSpec::new("E", ne, params).unwrap();
    e.v_init_mv = ValueDist::Uniform {
        low: -60.0,
        high: -50.0,
    };
    let mut i = PopulationSpec::new("I", n - ne, params).unwrap();
    i.v_init_mv = ValueDist::Uniform {
        low: -60.0,
        high: -50.0,
    };
    let p = 80.0 / f64::from(n);
    let proj = |name: &str, s, t, w| ProjectionSpec {
        name: name.into(),
        source: s,
        target: t,
        rule: Arc::new(FixedProbability {
            p,
            allow_autapses: true,
        }),
        weight_pa: ValueDist::Constant(w),
        delay_ms: ValueDist::Constant(0.1),
        gap: None,
        plasticity: None,
    };
    NetworkSpec {
        dt_ms: 0.1,
        populations: vec![e, i],
        projections: vec![
            proj("EE", 0, 0, 20.25),
            proj("EI", 0, 1, 20.25),
            proj("IE", 1, 0, -112.5),
            proj("II", 1, 1, -112.5),
        ],
        inputs: vec![],
    }
}

fn bench_cuba(c: &mut Criterion) {
    let mut group = c.benchmark_group("cuba_100ms");
    group.sample_size(10);
    for n in [4_000u32, 20_000] {
        for threads in [1usize, 2] {
            let spec = cuba(n);
            let mut sim = Simulation::build(&spec, 1, threads).unwrap();
            sim.run(1000, &mut NullSink).unwrap();
            group.bench_with_input(
                BenchmarkId::new(format!("{threads}threads"), format!("{n}neurons")),
                &n,
                |b, _| b.iter(|| sim.run(1000, &mut NullSink).unwrap()),
            );
        }
    }
    group.finish();
}

fn bench_build(c: &mut Criterion) {
    let mut group = c.benchmark_group("build");
    group.sample_size(10);
    let spec = cuba(20_000);
    group.bench_function("cuba/20000neurons", |b| {
        b.iter(|| Simulation::build(&spec, 1, 1).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench_cuba, bench_build);
criterion_main!(benches);
