print("hot path benchmarks: not written yet")
