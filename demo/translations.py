"""Turkish, Arabic, Ukrainian and Russian names for the demo city's categories and services.

Keyed by the German name in ``demo.catalogue``. Only names are translated: descriptions and what to bring stay
German and English (the site falls back to German, the admin lists them as missing).

The German term follows in parentheses only where citizens meet it on forms and letters and the translation alone
would not identify it: Personalausweis, Anmeldung, Meldebescheinigung, Führungszeugnis, Gewerbezentralregister,
Aufenthaltstitel, Niederlassungserlaubnis and Verpflichtungserklärung, each once, in the service named after it,
and in all four languages.
"""

NAMES: dict[str, dict[str, str]] = {
    # --- Categories ---
    "Ausweise und Pässe": {
        "tr": "Kimlik kartları ve pasaportlar",
        "ar": "بطاقات الهوية وجوازات السفر",
        "uk": "Посвідчення особи та паспорти",
        "ru": "Удостоверения личности и паспорта",
    },
    "Meldewesen": {
        "tr": "Adres kayıt işlemleri",
        "ar": "شؤون تسجيل السكن",
        "uk": "Реєстрація місця проживання",
        "ru": "Регистрация по месту жительства",
    },
    "Fahrzeuge": {
        "tr": "Araçlar",
        "ar": "المركبات",
        "uk": "Транспортні засоби",
        "ru": "Транспортные средства",
    },
    "Urkunden und Bescheinigungen": {
        "tr": "Belgeler ve onaylar",
        "ar": "الوثائق والشهادات",
        "uk": "Документи та довідки",
        "ru": "Документы и справки",
    },
    "Aufenthalt": {
        "tr": "Oturum işlemleri",
        "ar": "شؤون الإقامة",
        "uk": "Питання перебування",
        "ru": "Вопросы пребывания",
    },
    "Abholung": {
        "tr": "Belgelerin teslim alınması",
        "ar": "استلام الوثائق",
        "uk": "Отримання документів",
        "ru": "Получение документов",
    },
    # --- Services: Ausweise und Pässe ---
    "Personalausweis beantragen": {
        "tr": "Kimlik kartı başvurusu (Personalausweis)",
        "ar": "طلب بطاقة الهوية الشخصية (Personalausweis)",
        "uk": "Оформлення посвідчення особи (Personalausweis)",
        "ru": "Оформление удостоверения личности (Personalausweis)",
    },
    "Reisepass beantragen": {
        "tr": "Pasaport başvurusu",
        "ar": "طلب جواز سفر",
        "uk": "Оформлення паспорта",
        "ru": "Оформление паспорта",
    },
    "Express-Reisepass beantragen": {
        "tr": "Ekspres pasaport başvurusu",
        "ar": "طلب جواز سفر مستعجل",
        "uk": "Термінове оформлення паспорта",
        "ru": "Срочное оформление паспорта",
    },
    "Reisepass für ein Kind beantragen": {
        "tr": "Çocuk için pasaport başvurusu",
        "ar": "طلب جواز سفر لطفل",
        "uk": "Оформлення паспорта для дитини",
        "ru": "Оформление паспорта для ребенка",
    },
    "Vorläufigen Personalausweis beantragen": {
        "tr": "Geçici kimlik kartı başvurusu",
        "ar": "طلب بطاقة هوية مؤقتة",
        "uk": "Оформлення тимчасового посвідчення особи",
        "ru": "Оформление временного удостоверения личности",
    },
    "Verlust eines Ausweises melden": {
        "tr": "Kayıp kimlik belgesi bildirimi",
        "ar": "الإبلاغ عن فقدان وثيقة هوية",
        "uk": "Повідомлення про втрату документа, що посвідчує особу",
        "ru": "Заявление об утере документа, удостоверяющего личность",
    },
    # --- Services: Meldewesen ---
    "Anmeldung einer Wohnung": {
        "tr": "Adres kaydı (Anmeldung)",
        "ar": "تسجيل عنوان السكن (Anmeldung)",
        "uk": "Реєстрація за новою адресою (Anmeldung)",
        "ru": "Регистрация по новому адресу (Anmeldung)",
    },
    "Abmeldung bei Wegzug ins Ausland": {
        "tr": "Yurt dışına taşınırken adres kaydının silinmesi",
        "ar": "إلغاء تسجيل السكن عند الانتقال إلى الخارج",
        "uk": "Зняття з реєстрації в разі виїзду за кордон",
        "ru": "Снятие с регистрации при выезде за границу",
    },
    "Meldebescheinigung": {
        "tr": "Adres kayıt belgesi (Meldebescheinigung)",
        "ar": "شهادة تسجيل السكن (Meldebescheinigung)",
        "uk": "Довідка про реєстрацію місця проживання (Meldebescheinigung)",
        "ru": "Справка о регистрации по месту жительства (Meldebescheinigung)",
    },
    "Einfache Melderegisterauskunft": {
        "tr": "Adres kayıt sisteminden basit bilgi talebi",
        "ar": "استعلام بسيط من سجل السكان",
        "uk": "Проста довідка з реєстру населення",
        "ru": "Простая справка из реестра населения",
    },
    # --- Services: Fahrzeuge ---
    "Ummeldung mit Fahrzeug": {
        "tr": "Araç belgeleriyle birlikte adres değişikliği",
        "ar": "تغيير العنوان مع تحديث وثائق المركبة",
        "uk": "Зміна адреси разом із документами на транспортний засіб",
        "ru": "Смена адреса вместе с документами на транспортное средство",
    },
    "Bewohnerparkausweis beantragen": {
        "tr": "Bölge sakinleri için park kartı başvurusu",
        "ar": "طلب تصريح وقوف السيارات للسكان",
        "uk": "Оформлення дозволу на паркування для мешканців",
        "ru": "Оформление разрешения на парковку для жителей",
    },
    # --- Services: Urkunden und Bescheinigungen ---
    "Führungszeugnis beantragen": {
        "tr": "Adli sicil belgesi başvurusu (Führungszeugnis)",
        "ar": "طلب شهادة حسن السيرة والسلوك (Führungszeugnis)",
        "uk": "Оформлення довідки про несудимість (Führungszeugnis)",
        "ru": "Оформление справки о несудимости (Führungszeugnis)",
    },
    "Auskunft aus dem Gewerbezentralregister": {
        "tr": "Merkezi esnaf ve ticaret sicilinden bilgi (Gewerbezentralregister)",
        "ar": "إفادة من السجل المركزي للأنشطة التجارية (Gewerbezentralregister)",
        "uk": "Витяг із центрального реєстру підприємницької діяльності (Gewerbezentralregister)",
        "ru": "Выписка из центрального реестра предпринимательской деятельности (Gewerbezentralregister)",
    },
    "Amtliche Beglaubigung": {
        "tr": "Resmî tasdik",
        "ar": "تصديق رسمي",
        "uk": "Офіційне засвідчення",
        "ru": "Официальное заверение",
    },
    "Lebensbescheinigung für die Rente": {
        "tr": "Emekli maaşı için hayat belgesi",
        "ar": "شهادة حياة لأغراض المعاش التقاعدي",
        "uk": "Довідка про перебування в живих для отримання пенсії",
        "ru": "Справка о нахождении в живых для получения пенсии",
    },
    "Geburtsurkunde beantragen": {
        "tr": "Doğum belgesi başvurusu",
        "ar": "طلب شهادة ميلاد",
        "uk": "Оформлення свідоцтва про народження",
        "ru": "Оформление свидетельства о рождении",
    },
    "Anmeldung der Eheschließung": {
        "tr": "Evlenme başvurusu",
        "ar": "تقديم طلب عقد الزواج",
        "uk": "Подання заяви про реєстрацію шлюбу",
        "ru": "Подача заявления о регистрации брака",
    },
    "Sterbefall beurkunden": {
        "tr": "Ölüm kaydı",
        "ar": "تسجيل الوفاة",
        "uk": "Реєстрація смерті",
        "ru": "Регистрация смерти",
    },
    # --- Services: Aufenthalt ---
    "Aufenthaltstitel verlängern": {
        "tr": "Oturum izninin uzatılması (Aufenthaltstitel)",
        "ar": "تمديد تصريح الإقامة (Aufenthaltstitel)",
        "uk": "Продовження посвідки на проживання (Aufenthaltstitel)",
        "ru": "Продление вида на жительство (Aufenthaltstitel)",
    },
    "Niederlassungserlaubnis beantragen": {
        "tr": "Süresiz oturum izni başvurusu (Niederlassungserlaubnis)",
        "ar": "طلب تصريح الإقامة الدائمة (Niederlassungserlaubnis)",
        "uk": "Оформлення посвідки на постійне проживання (Niederlassungserlaubnis)",
        "ru": "Оформление бессрочного вида на жительство (Niederlassungserlaubnis)",
    },
    "Verpflichtungserklärung abgeben": {
        "tr": "Taahhütname verilmesi (Verpflichtungserklärung)",
        "ar": "تقديم تعهد بتحمل النفقات (Verpflichtungserklärung)",
        "uk": "Подання гарантійного зобов’язання (Verpflichtungserklärung)",
        "ru": "Подача гарантийного обязательства (Verpflichtungserklärung)",
    },
    # --- Services: Abholung ---
    "Abholung Personalausweis oder Reisepass": {
        "tr": "Kimlik kartı veya pasaportun teslim alınması",
        "ar": "استلام بطاقة الهوية أو جواز السفر",
        "uk": "Отримання посвідчення особи або паспорта",
        "ru": "Получение удостоверения личности или паспорта",
    },
    "Abholung elektronischer Aufenthaltstitel": {
        "tr": "Elektronik oturum izni kartının teslim alınması",
        "ar": "استلام بطاقة الإقامة الإلكترونية",
        "uk": "Отримання електронної посвідки на проживання",
        "ru": "Получение электронного вида на жительство",
    },
}
