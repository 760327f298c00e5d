-- wrk script: POST one Adult row to MLflow's /invocations as dataframe_split.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"dataframe_split":{"columns":["age","workclass","education","education_num","marital_status","occupation","relationship","race","sex","capital_gain","capital_loss","hours_per_week","native_country"],"data":[[37,"Private","Masters",14,"Married-civ-spouse","Exec-managerial","Husband","White","Male",0,0,50,"United-States"]]}}'
