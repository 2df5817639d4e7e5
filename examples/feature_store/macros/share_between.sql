/*
kind: metric
doc: The share of the rows whose column lies within [low, high] (NULLs count as outside); bound it
  with min / max where you use it.
params:
  low: {type: number, doc: The lower bound (inclusive).}
  high: {type: number, doc: The upper bound (inclusive).}
*/
avg(case when {{ column }} between {{ low }} and {{ high }} then 1 else 0 end)
