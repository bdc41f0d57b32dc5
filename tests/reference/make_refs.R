# Reference values for survey_stats tests, computed with R's survey package.
# Run from tests/reference:  Rscript make_refs.R   (writes r_refs.json)
# Tests never run R: they read the JSON this script wrote.
suppressMessages(library(survey))
suppressMessages(library(jsonlite))
options(survey.lonely.psu = "fail")

apistrat <- read.csv("data/apistrat.csv")
apiclus1 <- read.csv("data/apiclus1.csv")
cp <- read.csv("data/ciprop_strat120.csv")
pov <- read.csv("data/poverty_survey.csv")
# exact weights (the CSV holds 15 significant digits)
pov$weight <- pov$N_h / pov$n_h
cp$weight <- cp$N_h / cp$n_h

dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)
dcp <- svydesign(id = ~1, strata = ~stratum, weights = ~weight, fpc = ~N_h, data = cp)
dpov <- svydesign(id = ~1, strata = ~status, weights = ~weight, fpc = ~N_h, data = pov)

refs <- list()
add <- function(id, call, value) {
  refs[[id]] <<- c(list(r_call = call), value)
}
stat <- function(m, i = 1) {
  list(estimate = unname(coef(m)[i]), se = unname(SE(m)[i]))
}

# --- svyciprop, rare outcome (3 events / 120), every method 4.1 has
for (meth in c("mean", "logit", "xlogit", "asin", "beta", "likelihood")) {
  call <- sprintf('svyciprop(~y_rare, dcp, method = "%s")', meth)
  r <- eval(parse(text = call))
  add(paste0("ciprop_rare_", meth), call,
      list(estimate = as.numeric(coef(r)), se = as.numeric(sqrt(vcov(r))),
           ci_lower = unname(attr(r, "ci")[1]), ci_upper = unname(attr(r, "ci")[2]),
           df = degf(dcp)))
}
# svyciprop at level 0.90 and with df = Inf
for (meth in c("logit", "beta", "asin")) {
  call <- sprintf('svyciprop(~y_common, dcp, method = "%s", level = 0.9, df = Inf)', meth)
  r <- eval(parse(text = call))
  add(paste0("ciprop_common_", meth, "_l90_dfinf"), call,
      list(estimate = as.numeric(coef(r)), ci_lower = unname(attr(r, "ci")[1]),
           ci_upper = unname(attr(r, "ci")[2])))
}
# svyciprop on a domain (subset), df = degf(subset)
for (meth in c("beta", "asin", "mean", "xlogit")) {
  call <- sprintf('svyciprop(~satisfied, subset(dpov, status == "exited"), method = "%s")', meth)
  r <- eval(parse(text = call))
  add(paste0("pov_exited_ciprop_", meth), call,
      list(estimate = as.numeric(coef(r)), se = as.numeric(sqrt(vcov(r))),
           ci_lower = unname(attr(r, "ci")[1]), ci_upper = unname(attr(r, "ci")[2]),
           df = degf(subset(dpov, status == "exited"))))
}

# --- quantiles (survey 4.1 svyquantile: qrule = "math", interval.type = "mean")
for (q in c(0.25, 0.5, 0.9)) {
  call <- sprintf("svyquantile(~api00, dstrat, %s, ci = TRUE)", q)
  r <- eval(parse(text = call))
  add(sprintf("quantile_strat_api00_%s", q), call,
      list(estimate = unname(coef(r)), se = unname(SE(r)),
           ci_lower = unname(confint(r)[1]), ci_upper = unname(confint(r)[2]), df = degf(dstrat)))
}
call <- "svyquantile(~enroll, dclus1, 0.5, ci = TRUE)"
r <- eval(parse(text = call))
add("quantile_clus1_enroll_0.5", call,
    list(estimate = unname(coef(r)), se = unname(SE(r)),
         ci_lower = unname(confint(r)[1]), ci_upper = unname(confint(r)[2]), df = degf(dclus1)))
call <- "svyquantile(~api00, dclus1, 0.5, ci = TRUE, df = Inf, qrule = \"school\")"
r <- eval(parse(text = call))
add("quantile_clus1_api00_0.5_school_dfinf", call,
    list(estimate = unname(coef(r)), se = unname(SE(r)),
         ci_lower = unname(confint(r)[1]), ci_upper = unname(confint(r)[2])))
for (rule in c("hf7", "hf8", "hf4", "shahvaish")) {
  call <- sprintf('svyquantile(~api00, dstrat, 0.3, ci = TRUE, qrule = "%s")', rule)
  r <- eval(parse(text = call))
  add(sprintf("quantile_strat_api00_0.3_%s", rule), call,
      list(estimate = unname(coef(r)), se = unname(SE(r)),
           ci_lower = unname(confint(r)[1]), ci_upper = unname(confint(r)[2])))
}
call <- 'svyby(~api00, ~stype, dstrat, svyquantile, quantiles = 0.5, ci = TRUE)'
r <- eval(parse(text = call))
add("quantile_strat_api00_by_stype", call,
    list(level = as.character(r$stype), estimate = unname(r$api00), se = unname(r$se)))

# --- categorical proportions (every level) and totals of a factor
call <- "svymean(~stype, dclus1, deff = TRUE)"
r <- eval(parse(text = call))
add("catprop_clus1_stype", call, list(level = names(coef(r)), estimate = unname(coef(r)),
    se = unname(SE(r)), deff = unname(deff(r)), vcov = unname(vcov(r))))
call <- "svytotal(~stype, dclus1)"
r <- eval(parse(text = call))
add("cattotal_clus1_stype", call, list(level = names(coef(r)), estimate = unname(coef(r)), se = unname(SE(r))))

# --- stratified cluster design, PSUs sampled with replacement (no fpc), nest = TRUE
dsc <- svydesign(id = ~dnum, strata = ~stype, weights = ~pw, data = apistrat, nest = TRUE)
call <- "svymean(~api00, svydesign(id = ~dnum, strata = ~stype, weights = ~pw, data = apistrat, nest = TRUE), deff = TRUE)"
r <- svymean(~api00, dsc, deff = TRUE)
add("stratclus_mean_api00", call, c(stat(r), list(deff = unname(deff(r)), df = degf(dsc))))
call <- "svyby(~I(sch.wide == 'Yes'), ~cname == 'Los Angeles', dsc, svymean, covmat = TRUE)"
r <- svyby(~I(as.numeric(sch.wide == "Yes")), ~I(cname == "Los Angeles"), dsc, svymean, covmat = TRUE)
add("stratclus_prop_by_la", call, list(level = as.character(r[[1]]), estimate = unname(coef(r)),
    se = unname(SE(r)), vcov = unname(vcov(r))))

# --- lonely PSUs: strata = county in apistrat (several counties have one school)
for (pol in c("adjust", "average", "certainty", "remove")) {
  options(survey.lonely.psu = pol)
  dl <- svydesign(id = ~1, strata = ~cname, weights = ~pw, data = apistrat)
  call <- sprintf('options(survey.lonely.psu = "%s"); svymean(~api00, svydesign(id = ~1, strata = ~cname, weights = ~pw, data = apistrat)); svytotal(~enroll, same)', pol)
  m <- svymean(~api00, dl); t <- svytotal(~enroll, dl)
  add(paste0("lonely_", pol), call, list(mean_estimate = unname(coef(m)), mean_se = unname(SE(m)),
      total_estimate = unname(coef(t)), total_se = unname(SE(t)), df = degf(dl)))
}
options(survey.lonely.psu = "fail")

# --- domains: proportion and ratio by domain with full covariance; na.rm domain
call <- "svyby(~I(as.numeric(sch.wide == 'Yes')), ~stype, dstrat, svymean, covmat = TRUE, deff = TRUE)"
r <- svyby(~I(as.numeric(sch.wide == "Yes")), ~stype, dstrat, svymean, covmat = TRUE, deff = TRUE)
add("domain_strat_prop_schwide_by_stype", call, list(level = as.character(r$stype),
    estimate = unname(coef(r)), se = unname(SE(r)), deff = unname(deff(r)), vcov = unname(vcov(r))))
call <- "svyby(~api00, ~awards, dstrat, svymean, covmat = TRUE, deff = TRUE)"
r <- svyby(~api00, ~awards, dstrat, svymean, covmat = TRUE, deff = TRUE)
add("domain_strat_mean_api00_by_awards", call, list(level = as.character(r$awards),
    estimate = unname(coef(r)), se = unname(SE(r)), deff = unname(deff(r)), vcov = unname(vcov(r))))
call <- "svyby(~enroll, ~awards, dclus1, svytotal, covmat = TRUE)"
r <- svyby(~enroll, ~awards, dclus1, svytotal, covmat = TRUE)
add("domain_clus1_total_enroll_by_awards", call, list(level = as.character(r$awards),
    estimate = unname(coef(r)), se = unname(SE(r)), vcov = unname(vcov(r))))
call <- "svyby(~api.stu, ~stype, dclus1, svyratio, denominator = ~enroll, covmat = TRUE)"
r <- svyby(~api.stu, by = ~stype, denominator = ~enroll, design = dclus1, FUN = svyratio, covmat = TRUE)
add("domain_clus1_ratio_by_stype", call, list(level = as.character(r$stype),
    estimate = unname(coef(r)), se = unname(SE(r)), vcov = unname(vcov(r))))
call <- "svymean(~acs.k3, dstrat, na.rm = TRUE)"
r <- svymean(~acs.k3, dstrat, na.rm = TRUE)
add("na_rm_strat_mean_acsk3", call, c(stat(r), list(n_missing = sum(is.na(apistrat$acs.k3)))))
call <- "svyratio(~api.stu, ~enroll, dclus1)"
r <- svyratio(~api.stu, ~enroll, dclus1)
add("ratio_clus1_apistu_enroll", call, list(estimate = unname(coef(r)), se = unname(SE(r))))

# --- linear combination of totals / means from one design
call <- "svycontrast(svytotal(~api00 + api99, dstrat), c(1, -1))"
r <- svycontrast(svytotal(~api00 + api99, dstrat), c(1, -1))
add("contrast_strat_total_diff", call, stat(r))
call <- "svyby(~misidentified, ~status, subset(dpov, status %in% c('exited','unexited')), svymean) via full design: svycontrast(svyby(~I(status=='exited'), ...))"
r <- svyby(~satisfied, ~status, dpov, svymean, covmat = TRUE)
cc <- svycontrast(r, c(exited = 1, unexited = -1, unregistered = 0, deregistered = 0))
add("pov_contrast_exited_minus_unexited", "svycontrast(svyby(~satisfied, ~status, dpov, svymean, covmat = TRUE), c(exited = 1, unexited = -1, unregistered = 0, deregistered = 0))", stat(cc))

# --- fpc as sampling fraction
apistrat$frac <- 1 / apistrat$pw
call <- "svymean(~api00, svydesign(id = ~1, strata = ~stype, fpc = ~frac, data = apistrat))"
r <- svymean(~api00, svydesign(id = ~1, strata = ~stype, fpc = ~frac, data = apistrat))
add("fpc_fraction_strat_mean_api00", call, stat(r))

# --- replicate-weight designs (deterministic ones) and calibration beyond the oracle
data(scd)
write.csv(scd, "data/scd.csv", row.names = FALSE)
dj1 <- as.svrepdesign(dclus1, type = "JK1")
m <- svymean(~api00, dj1); t <- svytotal(~enroll, dj1)
add("rep_jk1_clus1", "as.svrepdesign(dclus1, type = 'JK1'); svymean(~api00); svytotal(~enroll)",
    list(mean_estimate = unname(coef(m)), mean_se = unname(SE(m)), total_estimate = unname(coef(t)),
         total_se = unname(SE(t)), scale = dj1$scale, n_rep = ncol(dj1$repweights)))
djn <- as.svrepdesign(dstrat, type = "JKn")
m <- svymean(~api00, djn); r <- svyby(~api00, ~awards, djn, svymean, covmat = TRUE)
add("rep_jkn_strat", "as.svrepdesign(dstrat, type = 'JKn'); svymean(~api00); svyby(~api00, ~awards, svymean, covmat = TRUE)",
    list(mean_estimate = unname(coef(m)), mean_se = unname(SE(m)), by_estimate = unname(coef(r)),
         by_vcov = unname(vcov(r)), rscales_head = unname(head(djn$rscales, 3))))
dscd <- svydesign(ids = ~ambulance, strata = ~ESA, fpc = ~rep(5, 6), data = scd, nest = TRUE)
dbrr <- as.svrepdesign(dscd, type = "BRR")
m <- svytotal(~alive, dbrr)
add("rep_brr_scd", "svydesign(ids=~ambulance, strata=~ESA, fpc=~rep(5,6), data=scd, nest=TRUE); as.svrepdesign(type='BRR'); svytotal(~alive)",
    list(estimate = unname(coef(m)), se = unname(SE(m)), n_rep = ncol(dbrr$repweights)))
dfay <- as.svrepdesign(dscd, type = "Fay", fay.rho = 0.3)
m <- svytotal(~alive, dfay)
add("rep_fay_scd", "as.svrepdesign(dscd, type='Fay', fay.rho=0.3); svytotal(~alive)",
    list(estimate = unname(coef(m)), se = unname(SE(m))))
mt <- svytotal(~alive, dscd)
add("taylor_scd", "svytotal(~alive, dscd)", list(estimate = unname(coef(mt)), se = unname(SE(mt))))
dcal <- calibrate(dstrat, ~api99, population = c(`(Intercept)` = 6194, api99 = 3914069))
m <- svymean(~api00, dcal); t <- svytotal(~enroll, dcal)
add("calibrate_linear_strat", "calibrate(dstrat, ~api99, population = c(`(Intercept)` = 6194, api99 = 3914069)); svymean(~api00); svytotal(~enroll)",
    list(mean_estimate = unname(coef(m)), mean_se = unname(SE(m)), total_estimate = unname(coef(t)), total_se = unname(SE(t))))
pclus1 <- postStratify(dclus1, ~stype, data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018)))
r <- svyby(~api00, ~awards, pclus1, svymean)
add("poststratify_domain_clus1", "postStratify(dclus1, ~stype, pop.types); svyby(~api00, ~awards, svymean)",
    list(level = as.character(r$awards), estimate = unname(coef(r)), se = unname(SE(r))))

out <- list(generator = "tests/reference/make_refs.R", r_version = R.version.string,
            survey_version = as.character(packageVersion("survey")), refs = refs)
write_json(out, "r_refs.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote r_refs.json with", length(refs), "references\n")
