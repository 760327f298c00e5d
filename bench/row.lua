-- wrk script: POST one Adult row as JSON rows.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"rows":[{"age":37,"workclass":"Private","education":"Masters","education_num":14,"marital_status":"Married-civ-spouse","occupation":"Exec-managerial","relationship":"Husband","race":"White","sex":"Male","capital_gain":0,"capital_loss":0,"hours_per_week":50,"native_country":"United-States"}]}'
