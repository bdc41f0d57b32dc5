# Reference values for survey_stats' models and tests (svyglm, svychisq, svyttest, svycontrast
# with quote(), svyratio with several ratios, trimWeights), computed with R's survey package.
# Run from tests/reference:  Rscript make_refs_models.R   (writes r_refs_models.json)
# Tests never run R: they read the JSON this script wrote.
suppressMessages(library(survey))
suppressMessages(library(jsonlite))
options(survey.lonely.psu = "fail")

apistrat <- read.csv("data/apistrat.csv")
apiclus1 <- read.csv("data/apiclus1.csv")
# 0/1 response for logistic models: school met its growth target
apistrat$sw <- as.numeric(apistrat$sch.wide == "Yes")
apiclus1$sw <- as.numeric(apiclus1$sch.wide == "Yes")
# nhanes (R survey's own data): written once, then read back so R and Python use the same numbers
data(nhanes)
write.csv(nhanes, "data/nhanes.csv", row.names = FALSE)
nhanes <- read.csv("data/nhanes.csv")

dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)
dnh <- svydesign(id = ~SDMVPSU, strata = ~SDMVSTRA, weights = ~WTMEC2YR, nest = TRUE, data = nhanes)
ctl <- glm.control(epsilon = 1e-14, maxit = 100)
designs <- list(dstrat = dstrat, dclus1 = dclus1, dnh = dnh,
                dstrat_HM = subset(dstrat, stype %in% c("H", "M")),
                dclus1_yrno = subset(dclus1, yr.rnd == "No"),
                dstrat_awards = subset(dstrat, awards == "Yes"),
                jk1_clus1 = as.svrepdesign(dclus1, type = "JK1"),
                jk1_clus1_yrno = subset(as.svrepdesign(dclus1, type = "JK1"), yr.rnd == "No"),
                dstrat_E = subset(dstrat, stype == "E"),
                ps_clus1 = postStratify(dclus1, ~stype, data.frame(stype = c("E", "H", "M"),
                                                                   Freq = c(4421, 755, 1018))),
                jkn_strat = as.svrepdesign(dstrat, type = "JKn"))

refs <- list()
add <- function(id, call, value) {
  refs[[id]] <<- c(list(r_call = call), value)
}

# --- svyglm: coefficients, SE, covariance, t, p, residual df, Wald CI (confint.svyglm)
glm_case <- function(id, formula, dname, family) {
  # glm.fit returns the working weights of its second-to-last iteration; refitting from the
  # converged coefficients makes the sandwich use weights at the converged fit (else SEs are
  # off by ~1e-8 relative even with epsilon = 1e-14)
  call <- sprintf("m0 <- svyglm(%s, %s, family = %s, control = ctl); svyglm(same, start = coef(m0), control = ctl), ctl = glm.control(epsilon = 1e-14, maxit = 100)",
                  formula, dname, family)
  fam <- eval(parse(text = family))
  m0 <- suppressWarnings(eval(bquote(svyglm(.(as.formula(formula)), designs[[.(dname)]], family = .(fam),
                                             control = ctl))))
  m <- suppressWarnings(eval(bquote(svyglm(.(as.formula(formula)), designs[[.(dname)]], family = .(fam),
                                            start = .(unname(coef(m0))), control = ctl))))
  s <- summary(m)$coefficients
  ci <- confint(m)
  add(id, call, list(design = dname, formula = formula, family = family, names = names(coef(m)),
      estimate = unname(coef(m)), se = unname(SE(m)), vcov = unname(vcov(m)),
      t = unname(s[, 3]), p = unname(s[, 4]), df_residual = m$df.residual,
      ci_lower = unname(ci[, 1]), ci_upper = unname(ci[, 2]), n = length(m$y)))
  invisible(m)
}
glm_case("glm_gauss_strat", "api00 ~ ell + meals + stype", "dstrat", "gaussian()")
glm_case("glm_gauss_clus1", "api00 ~ ell + meals + mobility", "dclus1", "gaussian()")
glm_case("glm_logit_strat", "sw ~ ell + meals + stype", "dstrat", "binomial()")
glm_case("glm_qlogit_strat", "sw ~ ell + meals + stype", "dstrat", "quasibinomial()")
glm_case("glm_logit_clus1", "sw ~ ell + meals + mobility", "dclus1", "quasibinomial()")
glm_case("glm_pois_strat", "enroll ~ ell + meals + stype", "dstrat", "poisson()")
glm_case("glm_qpois_clus1", "enroll ~ ell + mobility", "dclus1", "quasipoisson()")
glm_case("glm_gauss_subset_strat", "api00 ~ ell + meals + stype", "dstrat_HM", "gaussian()")
glm_case("glm_logit_subset_clus1", "sw ~ ell + meals", "dclus1_yrno", "quasibinomial()")
glm_case("glm_pois_subset_strat", "enroll ~ ell + meals", "dstrat_awards", "poisson()")
glm_case("glm_logit_nhanes_na", "HI_CHOL ~ factor(race) + agecat + RIAGENDR", "dnh", "quasibinomial()")
glm_case("glm_gauss_interaction_strat", "api00 ~ ell * stype", "dstrat", "gaussian()")
glm_case("glm_gauss_jk1", "api00 ~ ell + meals + mobility", "jk1_clus1", "gaussian()")
glm_case("glm_logit_jk1", "sw ~ ell + meals", "jk1_clus1", "quasibinomial()")
glm_case("glm_pois_jkn", "enroll ~ ell + meals + stype", "jkn_strat", "poisson()")
glm_case("glm_gauss_subset_jk1", "api00 ~ ell + meals", "jk1_clus1_yrno", "gaussian()")
glm_case("glm_gauss_poststrat_clus1", "api00 ~ ell + meals", "ps_clus1", "gaussian()")
glm_case("glm_logit_poststrat_clus1", "sw ~ ell + meals", "ps_clus1", "quasibinomial()")

# predict(..., se.fit = TRUE) on the first 6 rows of apistrat, link and response scale
m0 <- svyglm(sw ~ ell + meals + stype, dstrat, family = quasibinomial(), control = ctl)
m <- svyglm(sw ~ ell + meals + stype, dstrat, family = quasibinomial(), start = coef(m0), control = ctl)
nd <- apistrat[1:6, ]
for (type in c("link", "response")) {
  p <- predict(m, newdata = nd, type = type)
  add(paste0("glm_predict_logit_strat_", type),
      sprintf("predict(svyglm(sw ~ ell + meals + stype, dstrat, family = quasibinomial(), start = coef(m0), control = ctl), newdata = apistrat[1:6, ], type = '%s')", type),
      list(estimate = unname(as.vector(coef(p))), se = unname(as.vector(SE(p)))))
}

# --- svychisq: every statistic
chisq_case <- function(id, formula, dname) {
  for (st in c("F", "Chisq", "Wald", "adjWald")) {
    call <- sprintf('svychisq(%s, %s, statistic = "%s")', formula, dname, st)
    r <- svychisq(as.formula(formula), designs[[dname]], statistic = st)
    add(paste0(id, "_", st), call, list(statistic = unname(r$statistic),
        parameter = unname(r$parameter), p_value = unname(r$p.value), parameter_names = names(r$parameter)))
  }
}
chisq_case("chisq_strat_schwide_stype", "~sch.wide + stype", "dstrat")
chisq_case("chisq_clus1_awards_stype", "~awards + stype", "dclus1")
chisq_case("chisq_nhanes_race_agecat", "~race + agecat", "dnh")
chisq_case("chisq_nhanes_hichol_race_na", "~HI_CHOL + race", "dnh")
chisq_case("chisq_subset_strat_E_awards_schwide", "~awards + sch.wide", "dstrat_E")
chisq_case("chisq_subset_clus1_yrno_awards_stype", "~awards + stype", "dclus1_yrno")
chisq_case("chisq_jk1_awards_stype", "~awards + stype", "jk1_clus1")
chisq_case("chisq_jkn_schwide_stype", "~sch.wide + stype", "jkn_strat")

# --- svyttest
tt_case <- function(id, formula, dname) {
  call <- sprintf("svyttest(%s, %s)", formula, dname)
  r <- svyttest(as.formula(formula), designs[[dname]])
  add(id, call, list(estimate = unname(r$estimate), statistic = unname(r$statistic),
      df = unname(r$parameter), p_value = unname(r$p.value),
      ci_lower = unname(r$conf.int[1]), ci_upper = unname(r$conf.int[2])))
}
tt_case("ttest_strat_api00_schwide", "api00 ~ sch.wide", "dstrat")
tt_case("ttest_clus1_enroll_compimp", "enroll ~ comp.imp", "dclus1")
tt_case("ttest_subset_strat_api00_schwide", "api00 ~ sch.wide", "dstrat_HM")
tt_case("ttest_strat_growth_onesample", "growth ~ 0", "dstrat")
tt_case("ttest_jk1_api00_schwide", "api00 ~ sch.wide", "jk1_clus1")

# --- svycontrast with quote(): the delta method
tot <- svytotal(~api00 + api99 + enroll, dstrat)
nl <- list(ratio = quote(api00 / api99), logdiff = quote(log(api00) - log(api99)),
           ratiodiff = quote(api00 / enroll - api99 / enroll), power = quote(sqrt(api00) * 2 + api99^2 / 1e6),
           expo = quote(exp(api00 / api99)))
py <- list(ratio = "api00 / api99", logdiff = "log(api00) - log(api99)",
           ratiodiff = "api00 / enroll - api99 / enroll", power = "sqrt(api00) * 2 + api99 ** 2 / 1e6",
           expo = "exp(api00 / api99)")
for (nm in names(nl)) {
  r <- svycontrast(tot, nl[[nm]])
  add(paste0("nlcon_strat_totals_", nm),
      sprintf("svycontrast(svytotal(~api00 + api99 + enroll, dstrat), quote(%s))", deparse(nl[[nm]])),
      list(expression = py[[nm]], estimate = unname(coef(r)), se = unname(SE(r))))
}
by <- svyby(~sw, ~stype, dclus1, svymean, covmat = TRUE)
nl <- list(oddsratio = quote((E / (1 - E)) / (H / (1 - H))), logdiff = quote(log(E) - log(M)),
           diffratio = quote(E / H - M / H))
py <- list(oddsratio = "(E / (1 - E)) / (H / (1 - H))", logdiff = "log(E) - log(M)",
           diffratio = "E / H - M / H")
for (nm in names(nl)) {
  r <- svycontrast(by, nl[[nm]])
  add(paste0("nlcon_clus1_by_", nm),
      sprintf("svycontrast(svyby(~sw, ~stype, dclus1, svymean, covmat = TRUE), quote(%s))", deparse(nl[[nm]])),
      list(expression = py[[nm]], estimate = unname(coef(r)), se = unname(SE(r))))
}

# --- several ratios in one call, with their covariance (column-major: num varies fastest)
for (dn in c("dstrat", "dclus1")) {
  r <- svyratio(~api.stu + api00, ~enroll + api99, designs[[dn]], covmat = TRUE)
  add(paste0("multiratio_", dn), sprintf("svyratio(~api.stu + api00, ~enroll + api99, %s, covmat = TRUE)", dn),
      list(estimate = unname(as.vector(coef(r))), se = unname(as.vector(SE(r))), vcov = unname(vcov(r)),
           names = names(coef(r))))
}

# --- trimWeights: redistribution, strict, and the variance of the trimmed design
trim_case <- function(id, dname, upper, lower, strict, y, na = FALSE) {
  call <- sprintf("trimWeights(%s, upper = %s, lower = %s, strict = %s); svymean(~%s); svytotal(~%s)",
                  dname, upper, lower, strict, y, y)
  dt <- trimWeights(designs[[dname]], upper = upper, lower = lower, strict = strict)
  m <- svymean(as.formula(paste0("~", y)), dt, na.rm = na)
  t <- svytotal(as.formula(paste0("~", y)), dt, na.rm = na)
  w <- weights(dt)
  add(id, call, list(design = dname, upper = upper, lower = lower, strict = strict, variable = y,
      weights = unname(w), mean_estimate = unname(coef(m)), mean_se = unname(SE(m)),
      total_estimate = unname(coef(t)), total_se = unname(SE(t))))
}
trim_case("trim_strat_upper40", "dstrat", 40, -Inf, FALSE, "api00")
trim_case("trim_strat_upper32_strict", "dstrat", 32, -Inf, TRUE, "api00")
trim_case("trim_strat_upper32_loose", "dstrat", 32, -Inf, FALSE, "api00")
trim_case("trim_nhanes_both", "dnh", 60000, 5000, FALSE, "HI_CHOL", na = TRUE)
trim_case("trim_nhanes_both_strict", "dnh", 60000, 5000, TRUE, "HI_CHOL", na = TRUE)

# --- replicate df: R's degf on replicate designs built by as.svrepdesign
for (dn in c("jk1_clus1", "jkn_strat")) {
  add(paste0("degf_", dn), sprintf("degf(%s)", dn), list(degf = degf(designs[[dn]])))
}

out <- list(generator = "tests/reference/make_refs_models.R", r_version = R.version.string,
            survey_version = as.character(packageVersion("survey")), refs = refs)
write_json(out, "r_refs_models.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote r_refs_models.json with", length(refs), "references\n")
