# Reference values for multistage designs and lonely PSUs in domains, computed with R's survey
# package (svyrecvar's multistage recursion; onestage/onestrat on subsets).
# Run from tests/reference:  Rscript make_refs_multistage.R   (writes r_refs_multistage.json)
# Tests never run R: they read the JSON this script wrote.  The samples drawn here from R's
# apipop are written to data/ once and read back, so R and Python use the same numbers.
suppressMessages(library(survey))
suppressMessages(library(jsonlite))
options(survey.lonely.psu = "fail", survey.adjust.domain.lonely = FALSE)
data(api)
write.csv(apiclus2, "data/apiclus2.csv", row.names = FALSE)
apiclus2 <- read.csv("data/apiclus2.csv")
apistrat <- read.csv("data/apistrat.csv")

# --- a stratified two-stage sample: strata = school type, districts, then up to 3 schools
set.seed(20261202)
pop <- apipop[, c("stype", "dnum", "snum", "api00", "api99", "enroll", "sch.wide", "meals", "ell")]
pop$sdist <- paste(pop$stype, pop$dnum)
s2 <- do.call(rbind, lapply(split(pop, pop$stype), function(p) {
  dists <- unique(p$dnum)
  take <- sample(dists, c(E = 12, H = 8, M = 10)[[p$stype[1]]])
  do.call(rbind, lapply(take, function(d) {
    sch <- p[p$dnum == d, ]
    got <- sch[sample(nrow(sch), min(3, nrow(sch))), ]
    got$fpc1 <- length(dists)
    got$fpc2 <- nrow(sch)
    got
  }))
}))
write.csv(s2, "data/apistrat2stage.csv", row.names = FALSE)
s2 <- read.csv("data/apistrat2stage.csv")

# --- a three-stage sample: counties, districts in county, schools in district (some lonely)
set.seed(416)
pop$cd <- paste(pop$dnum)
pop$cnum <- apipop$cnum
counties <- unique(pop$cnum)
s3 <- do.call(rbind, lapply(sample(counties, 14), function(cn) {
  p <- pop[pop$cnum == cn, ]
  dists <- unique(p$dnum)
  take <- if (length(dists) > 1) sample(dists, 2) else dists
  do.call(rbind, lapply(seq_along(take), function(i) {
    sch <- p[p$dnum == take[i], ]
    k <- if (i == 1) min(2, nrow(sch)) else 1  # the second district: one school (lonely unless census)
    got <- sch[sample(nrow(sch), k), ]
    got$fpc1 <- length(counties)
    got$fpc2 <- length(dists)
    got$fpc3 <- nrow(sch)
    got
  }))
}))
write.csv(s3, "data/api3stage.csv", row.names = FALSE)
s3 <- read.csv("data/api3stage.csv")

refs <- list()
add <- function(id, call, value) {
  refs[[id]] <<- c(list(r_call = call), value)
}
num <- function(x) unname(as.numeric(x))
est <- function(r) {
  v <- vcov(r)
  list(estimate = num(coef(r)), se = num(SE(r)), vcov = unname(as.matrix(v)))
}
run <- function(id, call, designs) {
  r <- eval(parse(text = call), envir = designs)
  out <- est(r)
  d <- attr(r, "deff")
  if (!is.null(d)) out$deff <- num(diag(as.matrix(d)))
  add(id, call, out)
}

designs <- list2env(list(
  d2 = svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2),
  d2w = svydesign(id = ~dnum + snum, weights = ~pw, data = apiclus2),
  ds2 = svydesign(id = ~dnum + snum, strata = ~stype, fpc = ~fpc1 + fpc2, nest = TRUE, data = s2),
  d3 = svydesign(id = ~cnum + dnum + snum, fpc = ~fpc1 + fpc2 + fpc3, data = s3)
))
designs$svymean <- svymean; designs$svytotal <- svytotal; designs$svyratio <- svyratio
designs$svyby <- svyby; designs$subset <- subset

# --- design structure
for (dn in c("d2", "d2w", "ds2", "d3")) {
  d <- get(dn, designs)  # weights and degf do not depend on the lonely-PSU option
  add(paste0("structure_", dn), paste0("degf(", dn, "); weights(", dn, ")"),
      list(df = degf(d), weights = num(weights(d))))
}

# --- estimators on the multistage designs
for (dn in c("d2", "d2w", "ds2")) {
  run(paste0(dn, "_mean_api00"), sprintf("svymean(~api00, %s, deff = TRUE)", dn), designs)
  run(paste0(dn, "_mean_api00_api99"), sprintf("svymean(~api00 + api99, %s)", dn), designs)
  run(paste0(dn, "_total_enroll"), sprintf("svytotal(~enroll, %s, deff = TRUE, na.rm = TRUE)", dn), designs)
  run(paste0(dn, "_ratio_api00_api99"), sprintf("svyratio(~api00, ~api99, %s)", dn), designs)
  run(paste0(dn, "_prop_schwide"), sprintf("svymean(~factor(sch.wide), %s, deff = TRUE)", dn), designs)
  r <- eval(parse(text = sprintf("svyby(~api00, ~stype, %s, svymean)", dn)), envir = designs)
  add(paste0(dn, "_by_stype_mean_api00"), sprintf("svyby(~api00, ~stype, %s, svymean)", dn),
      list(estimate = num(coef(r)), se = num(SE(r))))
  r <- eval(parse(text = sprintf("svytotal(~api00, subset(%s, meals > 50))", dn)), envir = designs)
  add(paste0(dn, "_where_meals_total_api00"), sprintf("svytotal(~api00, subset(%s, meals > 50))", dn),
      list(estimate = num(coef(r)), se = num(SE(r)),
           df = degf(eval(parse(text = sprintf("subset(%s, meals > 50)", dn)), envir = designs))))
  for (q in c(0.25, 0.5)) {
    call <- sprintf("svyquantile(~api00, %s, %s, ci = TRUE)", dn, q)
    r <- eval(parse(text = call), envir = designs)
    add(sprintf("%s_quantile_api00_%s", dn, q), call,
        list(estimate = num(coef(r)), se = num(SE(r)), ci_lower = num(confint(r)[1]),
             ci_upper = num(confint(r)[2])))
  }
}
# d3 has lonely third-stage units (one school of several in a district): estimates under "certainty"
options(survey.lonely.psu = "certainty")
run("d3_mean_api00", "svymean(~api00, d3, deff = TRUE)", designs)
run("d3_total_enroll", "svytotal(~enroll, d3, na.rm = TRUE)", designs)
run("d3_ratio_api00_api99", "svyratio(~api00, ~api99, d3)", designs)
r <- svyby(~api00, ~stype, designs$d3, svymean)
add("d3_by_stype_mean_api00", "svyby(~api00, ~stype, d3, svymean)", list(estimate = num(coef(r)), se = num(SE(r))))
options(survey.lonely.psu = "fail")

# three-stage with lonely third-stage units: certainty/remove give them no variance
for (pol in c("certainty", "remove")) {
  options(survey.lonely.psu = pol)
  d <- svydesign(id = ~cnum + dnum + snum, fpc = ~fpc1 + fpc2 + fpc3, data = s3)
  call <- sprintf('options(survey.lonely.psu = "%s"); svymean(~api00, d3); svytotal(~enroll, d3, na.rm = TRUE)', pol)
  m <- svymean(~api00, d); t <- svytotal(~enroll, d, na.rm = TRUE)
  add(paste0("d3_lonely_", pol), call, list(mean = est(m), total = est(t)))
}
options(survey.lonely.psu = "fail")

# --- svyglm on the two-stage design (converged to 1e-14, then refitted from the solution)
ctl <- glm.control(epsilon = 1e-14, maxit = 100)
apiclus2$sw <- as.numeric(apiclus2$sch.wide == "Yes")
d2g <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
for (spec in list(c("gaussian", "api00 ~ ell + meals"), c("binomial", "sw ~ ell + meals"),
                  c("gaussian_sub", "api00 ~ ell + meals"))) {
  fam <- if (spec[1] == "binomial") quasibinomial() else gaussian()
  des <- if (spec[1] == "gaussian_sub") subset(d2g, stype != "E") else d2g
  m0 <- svyglm(as.formula(spec[2]), des, family = fam, control = ctl)
  m <- svyglm(as.formula(spec[2]), des, family = fam, start = coef(m0), control = ctl)
  call <- sprintf("svyglm(%s, %s, family = %s, control = glm.control(epsilon = 1e-14, maxit = 100)) refitted from its coefficients",
                  spec[2], if (spec[1] == "gaussian_sub") "subset(d2, stype != 'E')" else "d2",
                  if (spec[1] == "binomial") "quasibinomial()" else "gaussian()")
  add(paste0("d2_glm_", spec[1]), call,
      list(coef = num(coef(m)), se = num(SE(m)), vcov = unname(vcov(m)), df_residual = m$df.residual))
}

# --- replicate weights on the first stage, calibration, post-stratification, contrasts
jk1 <- as.svrepdesign(designs$d2, type = "JK1")
r <- svymean(~api00, jk1)
add("d2_jk1_mean_api00", 'svymean(~api00, as.svrepdesign(d2, type = "JK1"))', est(r))
jkn <- as.svrepdesign(designs$ds2, type = "JKn")
r <- svymean(~api00, jkn)
add("ds2_jkn_mean_api00", 'svymean(~api00, as.svrepdesign(ds2, type = "JKn"))', est(r))
ps <- postStratify(designs$d2, ~stype, data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018)))
r <- svymean(~api00, ps)
add("d2_poststratify_mean_api00", 'svymean(~api00, postStratify(d2, ~stype, data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))))', est(r))
r <- svyby(~api00, ~stype, ps, svymean)
add("d2_poststratify_by_stype", 'svyby(~api00, ~stype, postStratify(d2, ...), svymean)', list(estimate = num(coef(r)), se = num(SE(r))))
cal <- calibrate(designs$d2, ~api99, population = c(`(Intercept)` = 6194, api99 = 3914069))
r <- svytotal(~enroll, cal, na.rm = TRUE)
add("d2_calibrate_total_enroll", 'svytotal(~enroll, calibrate(d2, ~api99, population = c(`(Intercept)` = 6194, api99 = 3914069)), na.rm = TRUE)', est(r))
rk <- calibrate(designs$d2, ~stype + sch.wide, population = c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018,
                                                              sch.wideYes = 4694), calfun = "raking", epsilon = 1e-12)
r <- svymean(~api00, rk)
add("d2_calibrate_raking_mean_api00", 'svymean(~api00, calibrate(d2, ~stype + sch.wide, population = c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018, sch.wideYes = 4694), calfun = "raking", epsilon = 1e-12))', est(r))
by <- svyby(~api00, ~stype, designs$d2, svymean, covmat = TRUE)
r <- svycontrast(by, quote(E / H - 1))
add("d2_contrast_E_over_H", "svycontrast(svyby(~api00, ~stype, d2, svymean, covmat = TRUE), quote(E / H - 1))", est(r))

# --- lonely PSUs in domains: apistrat stratified by county (several counties hold one school)
for (pol in c("average", "adjust")) {
  for (adl in c(FALSE, TRUE)) {
    options(survey.lonely.psu = pol, survey.adjust.domain.lonely = adl)
    d <- svydesign(id = ~1, strata = ~cname, weights = ~pw, data = apistrat)
    tag <- sprintf("lonely_%s_adl%s", pol, if (adl) "1" else "0")
    pre <- sprintf('options(survey.lonely.psu = "%s", survey.adjust.domain.lonely = %s); d <- svydesign(id = ~1, strata = ~cname, weights = ~pw, data = apistrat); ',
                   pol, adl)
    r <- suppressWarnings(svyby(~api00, ~stype, d, svymean))
    add(paste0(tag, "_by_stype_mean"), paste0(pre, "svyby(~api00, ~stype, d, svymean)"),
        list(estimate = num(coef(r)), se = num(SE(r))))
    r <- suppressWarnings(svyby(~factor(sch.wide), ~stype, d, svymean))
    add(paste0(tag, "_by_stype_prop"), paste0(pre, "svyby(~factor(sch.wide), ~stype, d, svymean)"),
        list(names = names(coef(r)), estimate = num(coef(r)), se = num(sqrt(diag(suppressWarnings(vcov(r)))))))
    r <- suppressWarnings(svymean(~api00, subset(d, awards == "Yes")))
    add(paste0(tag, "_where_awards_mean"), paste0(pre, 'svymean(~api00, subset(d, awards == "Yes"))'), est(r))
    r <- suppressWarnings(svymean(~api00, d))
    add(paste0(tag, "_whole_mean"), paste0(pre, "svymean(~api00, d)"), est(r))
    # clustered: apiclus2 districts as PSUs stratified by ... one-stage, lonely district strata
    dc <- svydesign(id = ~dnum, strata = ~cname, weights = ~pw, data = apiclus2)
    r <- suppressWarnings(svyby(~api00, ~stype, dc, svymean))
    add(paste0(tag, "_clus_by_stype_mean"),
        sprintf('options(survey.lonely.psu = "%s", survey.adjust.domain.lonely = %s); svyby(~api00, ~stype, svydesign(id = ~dnum, strata = ~cname, weights = ~pw, data = apiclus2), svymean)', pol, adl),
        list(estimate = num(coef(r)), se = num(SE(r))))
  }
}
options(survey.lonely.psu = "fail", survey.adjust.domain.lonely = FALSE)

out <- list(generated_by = "tests/reference/make_refs_multistage.R",
            r_version = R.version.string, survey_version = as.character(packageVersion("survey")),
            refs = refs)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "r_refs_multistage.json")
cat(length(refs), "reference cases written\n")
