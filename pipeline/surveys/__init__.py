"""Resident surveys: read like a service extract, geocoded by the same rules, weighted to the
census, estimated by segment, ward and group with honest intervals, and ward small-area estimates
(docs/surveys.md).

One job a module:

* :mod:`~pipeline.surveys.population`: the area's adults by OA, age band and sex from the census,
  and the margins (age band, sex, segment, ward, crosses);
* :mod:`~pipeline.surveys.weighting`: raking to the margins (weightipy), trimming, design effect,
  effective sample size, and the error when a margin cannot be met;
* :mod:`~pipeline.surveys.estimates`: weighted estimates by domain, intervals on Kish's effective
  sample size, comparison with the area;
* :mod:`~pipeline.surveys.sae`: the area-level Fay-Herriot model (REML, EBLUP, MSE);
* :mod:`~pipeline.surveys.wards`: the ward estimates of a question, direct and model.
"""
